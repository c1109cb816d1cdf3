#include "remote_device.h"

#include "al_error.h"

#include <stdio.h>
#include <string.h>

/* One key=value of a device string, blanks around it dropped (SoapySDR's
 * KwargsFromString trims them the same way). */
typedef struct {
    const char *p;
    size_t len;
} s_token;

static s_token s_trim(const char *p, size_t len)
{
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    return (s_token){p, len};
}

static int s_key_is(s_token t, const char *key)
{
    size_t k = strlen(key);
    if (t.len < k || memcmp(t.p, key, k) != 0)
        return 0;
    s_token rest = s_trim(t.p + k, t.len - k);
    return rest.len > 0 && rest.p[0] == '=';
}

static s_token s_value(s_token t)
{
    const char *eq = memchr(t.p, '=', t.len);
    return eq ? s_trim(eq + 1, t.len - (size_t)(eq + 1 - t.p)) : (s_token){t.p + t.len, 0};
}

int remote_device_wrap(char *device, size_t size, const char *url)
{
    if (url == NULL || url[0] == '\0' || strpbrk(url, ",= \t\n") != NULL)
        return AL_FAIL(AL_EINVAL, "remote URL '%s': expected e.g. tcp://HOST:55132",
                       url ? url : "");
    char rest[1024] = "";   /* ",key=value" for every key but driver */
    s_token driver = {NULL, 0};
    size_t used = 0;
    for (const char *p = device; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        s_token t = s_trim(p, len);
        p += len + (comma != NULL);
        if (t.len == 0)
            continue;
        if (s_key_is(t, "driver")) {
            driver = s_value(t);
            continue;
        }
        if (s_key_is(t, "remote"))
            return AL_FAIL(AL_EINVAL, "device '%s' already names a remote server", device);
        int n = snprintf(rest + used, sizeof rest - used, ",%.*s", (int)t.len, t.p);
        if (n < 0 || (size_t)n >= sizeof rest - used)
            return AL_FAIL(AL_EINVAL, "device '%s' is too long", device);
        used += (size_t)n;
    }
    if (driver.len == 0)
        return AL_FAIL(AL_EINVAL, "device '%s' has no driver key to reach remotely", device);
    if (driver.len == 6 && memcmp(driver.p, "remote", 6) == 0)
        return AL_FAIL(AL_EINVAL, "device '%s' already names a remote server", device);
    /* driver points into device: build the result aside, then copy. */
    char wrapped[sizeof rest + 512];
    int n = snprintf(wrapped, sizeof wrapped, "driver=remote,remote=%s,remote:driver=%.*s%s", url,
                     (int)driver.len, driver.p, rest);
    if (n < 0 || (size_t)n >= sizeof wrapped || (size_t)n >= size)
        return AL_FAIL(AL_EINVAL, "device '%s' through the remote server is longer than %zu",
                       device, size - 1);
    memcpy(device, wrapped, (size_t)n + 1);
    return AL_OK;
}
