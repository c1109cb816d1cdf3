#include "al_model.h"
#include "al_bytes.h"
#include "al_error.h"
#include "al_rng.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char s_magic[8] = {'A', 'I', 'R', 'L', 'C', 'K', 'P', 'T'};
enum { FORMAT_VERSION = 1 };

typedef struct {
    al_layer_spec spec;
    size_t offset;            /* first parameter in the blocks */
    size_t size;              /* parameters of this layer (W then b) */
    al_dense_t *dense;        /* set for AL_LAYER_DENSE */
    al_embedding_t *embed;    /* set for AL_LAYER_EMBEDDING */
} s_layer;

struct al_model {
    char arch[AL_MODEL_MAX_ARCH];     /* architecture description */
    unsigned n_layers;                /* layers in use */
    s_layer layers[AL_MODEL_MAX_LAYERS];
    size_t n_params;                  /* total parameters */
    float *params;                    /* [n_params] */
    float *grads;                     /* [n_params] */
    al_adam_t *adam;                  /* owns the moments [n_params] each */
};

void al_model_destroy(al_model_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    al_model_t *m = *self_p;
    for (unsigned i = 0; i < m->n_layers; i++) {
        al_dense_destroy(&m->layers[i].dense);
        al_embedding_destroy(&m->layers[i].embed);
    }
    al_adam_destroy(&m->adam);
    free(m->params);
    free(m->grads);
    free(m);
    *self_p = NULL;
}

al_model_t *al_model_create(const char *arch, const al_layer_spec *layers,
                            unsigned n_layers, unsigned max_batch, al_adam_config adam)
{
    if (arch == NULL || strlen(arch) >= AL_MODEL_MAX_ARCH) {
        AL_FAIL(AL_EINVAL, "architecture string missing or longer than %d bytes",
                AL_MODEL_MAX_ARCH - 1);
        return NULL;
    }
    if (layers == NULL || n_layers == 0 || n_layers > AL_MODEL_MAX_LAYERS) {
        AL_FAIL(AL_EINVAL, "n_layers=%u not in 1..%d", n_layers, AL_MODEL_MAX_LAYERS);
        return NULL;
    }
    al_model_t *m = calloc(1, sizeof *m);
    if (m == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    size_t total = 0;
    for (unsigned i = 0; i < n_layers; i++) {
        const al_layer_spec *s = &layers[i];
        if (s->kind != AL_LAYER_DENSE && s->kind != AL_LAYER_EMBEDDING) {
            AL_FAIL(AL_EINVAL, "layer %u has unknown kind %d", i, (int)s->kind);
            free(m);
            return NULL;
        }
        if (s->n_in == 0 || s->n_out == 0 || s->n_in > 65536 || s->n_out > 65536) {
            AL_FAIL(AL_EINVAL, "layer %u: sizes %u x %u not in 1..65536", i, s->n_in, s->n_out);
            free(m);
            return NULL;
        }
        m->layers[i].spec = *s;
        m->layers[i].offset = total;
        m->layers[i].size = (size_t)s->n_in * s->n_out + s->n_out;
        total += m->layers[i].size;
    }
    m->n_params = total;
    m->params = calloc(total, sizeof(float));
    m->grads = calloc(total, sizeof(float));
    m->adam = al_adam_create(total, adam);
    if (m->params == NULL || m->grads == NULL || m->adam == NULL) {
        al_model_destroy(&m);
        AL_FAIL(AL_ENOMEM, "no memory for %zu parameters (or bad optimiser settings)", total);
        return NULL;
    }
    for (unsigned i = 0; i < n_layers; i++) {
        s_layer *l = &m->layers[i];
        const size_t nw = (size_t)l->spec.n_in * l->spec.n_out;
        al_dense_params p = {
            .W = m->params + l->offset,
            .b = m->params + l->offset + nw,
            .dW = m->grads + l->offset,
            .db = m->grads + l->offset + nw,
        };
        if (l->spec.kind == AL_LAYER_DENSE)
            l->dense = al_dense_create(l->spec.n_in, l->spec.n_out, l->spec.act, max_batch, p);
        else
            l->embed = al_embedding_create(l->spec.n_in, l->spec.n_out, l->spec.act, max_batch, p);
        m->n_layers = i + 1;
        if (l->dense == NULL && l->embed == NULL) {
            al_model_destroy(&m);
            return NULL; /* message set by the layer */
        }
    }
    return m;
}

void al_model_init(al_model_t *m, uint64_t seed)
{
    al_rng_t rng;
    al_rng_seed(&rng, seed);
    memset(m->params, 0, sizeof(float) * m->n_params);
    for (unsigned i = 0; i < m->n_layers; i++) {
        const s_layer *l = &m->layers[i];
        const unsigned fan_in = l->spec.kind == AL_LAYER_EMBEDDING ? 1 : l->spec.n_in;
        const unsigned fan_out = l->spec.n_out;
        const size_t nw = (size_t)l->spec.n_in * l->spec.n_out;
        float *W = m->params + l->offset;
        if (l->spec.act == AL_ACT_RELU) {
            /* He et al. 2015: keeps activation variance through ReLUs. An
             * embedding row is one-hot input, so its fan-in is 1. */
            al_rng_fill_normalf(&rng, W, (unsigned)nw, sqrtf(2.0f / fan_in));
        } else {
            /* Glorot & Bengio 2010, uniform form. */
            const float a = sqrtf(6.0f / (float)(fan_in + fan_out));
            for (size_t k = 0; k < nw; k++)
                W[k] = (2.0f * al_rng_uniformf(&rng) - 1.0f) * a;
        }
    }
    al_adam_reset(m->adam);
    al_model_zero_grad(m);
}

unsigned al_model_num_layers(const al_model_t *m) { return m->n_layers; }

al_dense_t *al_model_dense(al_model_t *m, unsigned i)
{
    return i < m->n_layers ? m->layers[i].dense : NULL;
}

al_embedding_t *al_model_embedding(al_model_t *m, unsigned i)
{
    return i < m->n_layers ? m->layers[i].embed : NULL;
}

void al_model_zero_grad(al_model_t *m)
{
    memset(m->grads, 0, sizeof(float) * m->n_params);
}

int al_model_step(al_model_t *m)
{
    return al_adam_step(m->adam, m->params, m->grads);
}

al_adam_t *al_model_adam(al_model_t *m) { return m->adam; }
size_t al_model_num_params(const al_model_t *m) { return m->n_params; }
float *al_model_params(al_model_t *m) { return m->params; }
float *al_model_grads(al_model_t *m) { return m->grads; }
const char *al_model_arch(const al_model_t *m) { return m->arch; }

/* ---- checkpoint ---------------------------------------------------- */

static size_t s_header_size(const al_model_t *m)
{
    return 8 + 4 + 4 + strlen(m->arch) + 4 + 16 * (size_t)m->n_layers + 8;
}

static size_t s_file_size(const al_model_t *m, uint32_t extra_len)
{
    return s_header_size(m) + 4 * m->n_params       /* params */
           + 16 + 8 + 8 * m->n_params               /* Adam */
           + 4 + extra_len + 4;                     /* extra, CRC */
}

static uint8_t *s_put_floats(uint8_t *p, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++, p += 4)
        al_put_f32(p, x[i]);
    return p;
}

static uint8_t *s_put_header(const al_model_t *m, uint8_t *p)
{
    memcpy(p, s_magic, 8);
    p += 8;
    al_put_le32(p, FORMAT_VERSION);
    p += 4;
    const uint32_t L = (uint32_t)strlen(m->arch);
    al_put_le32(p, L);
    p += 4;
    memcpy(p, m->arch, L);
    p += L;
    al_put_le32(p, m->n_layers);
    p += 4;
    for (unsigned i = 0; i < m->n_layers; i++) {
        const al_layer_spec *s = &m->layers[i].spec;
        al_put_le32(p, (uint32_t)s->kind);
        al_put_le32(p + 4, s->n_in);
        al_put_le32(p + 8, s->n_out);
        al_put_le32(p + 12, (uint32_t)s->act);
        p += 16;
    }
    al_put_le64(p, m->n_params);
    return p + 8;
}

int al_write_file_atomic(const char *path, const void *buf, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return AL_FAIL(AL_EINVAL, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return AL_FAIL(AL_EIO, "cannot create %s: %s", tmp, strerror(errno));
    const uint8_t *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return AL_FAIL(AL_EIO, "cannot write %s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return AL_FAIL(AL_EIO, "cannot fsync %s: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) {
        unlink(tmp);
        return AL_FAIL(AL_EIO, "cannot close %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return AL_FAIL(AL_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    /* The rename itself is durable only once the directory is synced. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return AL_OK;
}

int al_model_save(al_model_t *m, const char *path, const void *extra, uint32_t extra_len)
{
    if (path == NULL)
        return AL_FAIL(AL_EINVAL, "no path");
    if (extra_len > AL_MODEL_MAX_EXTRA || (extra_len > 0 && extra == NULL))
        return AL_FAIL(AL_EINVAL, "extra state of %u bytes (max %u)", extra_len,
                       (unsigned)AL_MODEL_MAX_EXTRA);
    const size_t size = s_file_size(m, extra_len);
    uint8_t *buf = malloc(size);
    if (buf == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory for a %zu-byte checkpoint", size);
    uint8_t *p = s_put_header(m, buf);
    p = s_put_floats(p, m->params, m->n_params);
    al_adam_config c = al_adam_get_config(m->adam);
    al_put_f32(p, c.lr);
    al_put_f32(p + 4, c.beta1);
    al_put_f32(p + 8, c.beta2);
    al_put_f32(p + 12, c.eps);
    al_put_le64(p + 16, al_adam_steps(m->adam));
    p += 24;
    p = s_put_floats(p, al_adam_m(m->adam), m->n_params);
    p = s_put_floats(p, al_adam_v(m->adam), m->n_params);
    al_put_le32(p, extra_len);
    p += 4;
    if (extra_len > 0)
        memcpy(p, extra, extra_len);
    p += extra_len;
    al_put_le32(p, al_crc32(0, buf, (size_t)(p - buf)));
    int rc = al_write_file_atomic(path, buf, size);
    free(buf);
    return rc;
}

/* Reads a whole file of at most max_size bytes; *out is malloc'ed. */
static int s_read_file(const char *path, size_t max_size, uint8_t **out, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return AL_FAIL(AL_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return AL_FAIL(AL_EIO, "%s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_size) {
        close(fd);
        return AL_FAIL(AL_EFORMAT, "%s: %lld bytes is more than a checkpoint of this "
                       "model can hold (%zu)", path, (long long)st.st_size, max_size);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        close(fd);
        return AL_FAIL(AL_ENOMEM, "no memory");
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return AL_FAIL(AL_EIO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    *out = buf;
    *size = n;
    return AL_OK;
}

int al_model_load(al_model_t *m, const char *path, void *extra, uint32_t extra_cap,
                  uint32_t *extra_len)
{
    if (path == NULL)
        return AL_FAIL(AL_EINVAL, "no path");
    uint8_t *buf = NULL;
    size_t size = 0;
    int rc = s_read_file(path, s_file_size(m, AL_MODEL_MAX_EXTRA), &buf, &size);
    if (rc < 0)
        return rc;

    const size_t fixed = s_file_size(m, 0);
    if (size < 16 || memcmp(buf, s_magic, 8) != 0) {
        rc = AL_FAIL(AL_EFORMAT, "%s is not an airlearn checkpoint (bad magic or too short)", path);
        goto out;
    }
    uint32_t version = al_get_le32(buf + 8);
    if (version != FORMAT_VERSION) {
        rc = AL_FAIL(AL_EFORMAT, "%s: checkpoint format version %u, this build reads %u",
                     path, version, (unsigned)FORMAT_VERSION);
        goto out;
    }
    if (size < 4 || al_crc32(0, buf, size - 4) != al_get_le32(buf + size - 4)) {
        rc = AL_FAIL(AL_ECRC, "%s: checksum mismatch (truncated or corrupted file)", path);
        goto out;
    }
    /* Architecture: compare the stored header with the one this model
     * would write; any difference is a mismatch. */
    const size_t hsize = s_header_size(m);
    uint8_t header[8 + 4 + 4 + AL_MODEL_MAX_ARCH + 4 + 16 * AL_MODEL_MAX_LAYERS + 8];
    s_put_header(m, header);
    uint32_t L = al_get_le32(buf + 12);
    if (size < hsize || memcmp(buf, header, hsize) != 0) {
        char stored[AL_MODEL_MAX_ARCH];
        size_t n = L < sizeof stored - 1 && 16 + (size_t)L <= size ? L : 0;
        memcpy(stored, buf + 16, n);
        stored[n] = '\0';
        rc = AL_FAIL(AL_EMISMATCH, "%s holds another architecture ('%s', layers or sizes "
                     "differ) than this model ('%s')", path, stored, m->arch);
        goto out;
    }
    if (size < fixed) {
        rc = AL_FAIL(AL_EFORMAT, "%s: truncated (%zu bytes, at least %zu needed)", path, size, fixed);
        goto out;
    }
    const uint8_t *p = buf + hsize;
    const uint8_t *p_params = p;
    p += 4 * m->n_params;
    const uint8_t *p_adam = p;
    p += 24 + 8 * m->n_params;
    uint32_t xlen = al_get_le32(p);
    p += 4;
    if (s_file_size(m, xlen) != size) {
        rc = AL_FAIL(AL_EFORMAT, "%s: size %zu does not match its contents", path, size);
        goto out;
    }
    if (xlen > extra_cap) {
        rc = AL_FAIL(AL_EMISMATCH, "%s: %u bytes of saved state, caller expects at most %u",
                     path, xlen, extra_cap);
        goto out;
    }
    /* Nothing is changed above this line. */
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = al_get_f32(p_params + 4 * i);
    al_adam_set_steps(m->adam, al_get_le64(p_adam + 16));
    float *am = al_adam_m(m->adam), *av = al_adam_v(m->adam);
    const uint8_t *pm = p_adam + 24, *pv = pm + 4 * m->n_params;
    for (size_t i = 0; i < m->n_params; i++) {
        am[i] = al_get_f32(pm + 4 * i);
        av[i] = al_get_f32(pv + 4 * i);
    }
    if (xlen > 0)
        memcpy(extra, p, xlen);
    if (extra_len != NULL)
        *extra_len = xlen;
    al_model_zero_grad(m);
    rc = AL_OK;
out:
    free(buf);
    return rc;
}
