#include "al_threads.h"
#include "al_error.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define AL_HAVE_MXCSR 1
/* MXCSR bit 15 flush-to-zero (results), bit 6 denormals-are-zero (inputs):
 * Intel SDM vol. 1, 10.2.3. */
static const unsigned s_ftz_daz = 0x8040u;
#endif

/* OpenBLAS's pthread server (driver/others/blas_server.c) joins its workers
 * here and starts them again, from the calling thread, on the next call
 * that needs them (goto_set_num_threads and exec_blas check
 * blas_server_avail). Not in cblas.h; weak, because the OpenMP and serial
 * builds of OpenBLAS do not have it: an OpenMP pool is created lazily by
 * the first parallel call and so inherits from the thread that makes it. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

int al_threads_init(void)
{
    int flush = 0;
#ifdef AL_HAVE_MXCSR
    const char *env = getenv(AL_THREADS_FTZ_ENV);
    flush = !(env != NULL && strcmp(env, "0") == 0);
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(flush ? csr | s_ftz_daz : csr & ~s_ftz_daz);
#endif
    if (blas_thread_shutdown_ != NULL) {
        blas_thread_shutdown_();
        openblas_set_num_threads(openblas_get_num_threads());
    }
    return flush;
}

int al_threads_flushing(void)
{
#ifdef AL_HAVE_MXCSR
    return (_mm_getcsr() & s_ftz_daz) == s_ftz_daz;
#else
    return 0;
#endif
}

int al_threads_set(int threads)
{
    if (threads < 1 || threads > 256)
        return AL_FAIL(AL_EINVAL, "threads must be 1..256, got %d", threads);
    openblas_set_num_threads(threads);
    return AL_OK;
}

int al_threads_get(void)
{
    return openblas_get_num_threads();
}
