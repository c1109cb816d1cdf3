#include "al_threads.h"
#include "al_error.h"

#include <cblas.h>

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
