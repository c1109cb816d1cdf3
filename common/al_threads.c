#include "al_threads.h"
#include "al_error.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* A DYNAMIC_ARCH OpenBLAS keeps its kernels in one table, `gotoblas`,
 * chosen by gotoblas_dynamic_init from OPENBLAS_CORETYPE or the CPU model
 * when the library loads; gotoblas_dynamic_quit only clears the pointer,
 * and gotoblas_dynamic_init returns at once while it is set
 * (driver/others/dynamic.c, 0.3.21). The table's parameters are read at
 * every call and the work buffers have one compile-time size for all
 * cores, so choosing again before the first BLAS call is the same as
 * having had the variable set at load. Weak: builds for one CPU lack
 * them, and have nothing to choose. */
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/* OpenBLAS core names whose kernels use AVX-512 (corename[] in
 * driver/others/dynamic.c; SapphireRapids from 0.3.22). */
static const char *const s_avx512_cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};

const char *al_threads_blas_choice(int cpu_avx512, const char *core,
                                   const char *openblas_env, const char *airlearn_env)
{
    if (!cpu_avx512 || core == NULL || openblas_env != NULL)
        return NULL;
    if (airlearn_env != NULL && strcmp(airlearn_env, "0") == 0)
        return NULL;
    for (size_t i = 0; i < sizeof s_avx512_cores / sizeof s_avx512_cores[0]; i++) {
        if (strcasecmp(core, s_avx512_cores[i]) == 0)
            return NULL;
    }
    return "SKYLAKEX";
}

int al_threads_cpu_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    /* libgcc's cpu model also checks XCR0, so these are 0 where the OS
     * does not save the AVX-512 registers. */
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

const char *al_threads_blas_core(void)
{
    return openblas_get_corename();
}

static void s_choose_blas_core(void)
{
    if (gotoblas_dynamic_init == NULL || gotoblas_dynamic_quit == NULL)
        return;
    const char *core = al_threads_blas_choice(al_threads_cpu_avx512(), openblas_get_corename(),
                                              getenv("OPENBLAS_CORETYPE"),
                                              getenv(AL_THREADS_CORE_ENV));
    if (core == NULL)
        return;
    /* Set only for the call: children (the loopback's daemons) choose for
     * themselves, and the user's own setting stays recognisable. */
    if (setenv("OPENBLAS_CORETYPE", core, 1) != 0)
        return;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
}

int al_threads_init(void)
{
    int flush = 0;
#ifdef AL_HAVE_MXCSR
    const char *env = getenv(AL_THREADS_FTZ_ENV);
    flush = !(env != NULL && strcmp(env, "0") == 0);
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(flush ? csr | s_ftz_daz : csr & ~s_ftz_daz);
#endif
    /* The kernels are switched while no OpenBLAS worker exists. */
    if (blas_thread_shutdown_ != NULL)
        blas_thread_shutdown_();
    s_choose_blas_core();
    if (blas_thread_shutdown_ != NULL)
        openblas_set_num_threads(openblas_get_num_threads());
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
