#include "bench.h"

/* One line per benchmark: adding one is a file plus a line here. */
#define BENCH_LIST(X) \
    X("airsim", bench_airsim, "driver=airsim between two processes: fast-clock Msps, realtime rate") \
    X("dsp", bench_dsp, "PHY: frame builder and RX front end, samples/s at sps 2 and 4") \
    X("feedback", bench_feedback, "feedback link: LOSSES->ACK round trip and rate, ipc and tcp") \
    X("nn", bench_nn, "neural-network core: RX forward/train, TX policy step vs sgemm peak") \

#define BENCH_DECLARE(name, fn, summary) int fn(const bench_opts *, FILE *);
BENCH_LIST(BENCH_DECLARE)

const bench_entry bench_table[] = {
#define BENCH_ROW(name, fn, summary) {name, fn, summary},
    BENCH_LIST(BENCH_ROW)
    {0, 0, 0},
};
