#include "fb_keys.h"

#include "al_error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int s_write_key(const char *path, const char *z85, mode_t mode, int force)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    if (fd < 0)
        return AL_FAIL(AL_EIO, "cannot create %s: %s%s", path, strerror(errno),
                       errno == EEXIST ? " (use --force to replace it)" : "");
    char line[FB_KEY_Z85 + 2];
    snprintf(line, sizeof line, "%s\n", z85);
    ssize_t w = write(fd, line, strlen(line));
    int ok = w == (ssize_t)strlen(line) && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    close(fd);
    return ok ? AL_OK : AL_FAIL(AL_EIO, "cannot write %s", path);
}

int fb_keygen(const char *dir, const char *name, int force)
{
    if (dir == NULL || name == NULL || name[0] == '\0' || strchr(name, '/'))
        return AL_FAIL(AL_EINVAL, "need a directory and a plain key name");
    char pub[FB_KEY_Z85 + 1], sec[FB_KEY_Z85 + 1];
    if (zmq_curve_keypair(pub, sec) != 0)
        return AL_FAIL(AL_EIO, "libzmq cannot make CURVE keys (built without libsodium?): %s",
                       zmq_strerror(errno));
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    int rc = s_write_key(path, sec, 0600, force);
    memset(sec, 0, sizeof sec);
    if (rc < 0)
        return rc;
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    return s_write_key(path, pub, 0644, force);
}

int fb_key_read(const char *path, char *z85)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return AL_FAIL(AL_EIO, "cannot open key %s: %s", path, strerror(errno));
    char line[128];
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (got == NULL)
        return AL_FAIL(AL_EFORMAT, "key file %s is empty", path);
    line[strcspn(line, "\r\n")] = '\0';
    uint8_t raw[32];
    if (strlen(line) != FB_KEY_Z85 || zmq_z85_decode(raw, line) == NULL)
        return AL_FAIL(AL_EFORMAT, "%s does not hold a 40-character Z85 key", path);
    memcpy(z85, line, FB_KEY_Z85 + 1);
    return AL_OK;
}

int fb_key_public(const char *secret_z85, char *public_z85)
{
    if (zmq_curve_public(public_z85, secret_z85) != 0)
        return AL_FAIL(AL_EFORMAT, "not a valid CURVE secret key");
    return AL_OK;
}

int fb_keys_load_dir(const char *dir, uint8_t (*keys)[32], unsigned cap, unsigned *n)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return AL_FAIL(AL_EIO, "cannot open key directory %s: %s", dir, strerror(errno));
    *n = 0;
    int rc = AL_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0)
            continue;
        if (*n == cap) {
            rc = AL_FAIL(AL_ERANGE, "more than %u keys in %s", cap, dir);
            break;
        }
        char path[4096], z85[FB_KEY_Z85 + 1];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc = fb_key_read(path, z85);
        if (rc < 0)
            break;
        zmq_z85_decode(keys[*n], z85);
        (*n)++;
    }
    closedir(d);
    return rc;
}
