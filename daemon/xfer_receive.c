#include "xfer_receive.h"

#include "al_error.h"
#include "al_log.h"
#include "daemon_util.h"
#include "state_json.h"
#include "xfer_frame.h"

#include <math.h>
#include <stdio.h>

xfer_rx_t *xfer_receive_create(const daemon_config *c, int *rc)
{
    *rc = AL_OK;
    if (!c->receive[0])
        return NULL;
    if (daemon_mkdir_p(c->receive) < 0) {
        *rc = AL_EIO;
        return NULL;
    }
    xfer_rx_config xc = {c->messages, c->M, c->receive, XFER_MAX_FILE};
    xfer_rx_t *x = xfer_rx_create(&xc);
    if (x == NULL)
        *rc = AL_EIO;
    return x;
}

/* The file complete, or refused by its check: said in the log and in
 * xfer.json before the transmitter hears of it. */
static void s_report(const xfer_rx_t *x, const daemon_config *c)
{
    const xfer_rx_result *r = xfer_rx_get_result(x);
    double bits = (double)r->eval_bits;
    int ok = r->state == FB_XFER_COMPLETE;
    double goodput = ok && r->seconds > 0 ? 8.0 * (double)r->size / r->seconds : 0.0;
    /* NaN (null) before any EVAL frame was seen */
    const double ber_id = bits > 0 ? (double)r->bit_errors_identity / bits : NAN;
    const double ber_lab = bits > 0 ? (double)r->bit_errors_labelled / bits : NAN;
    state_json_t *j = state_json_create();
    if (j != NULL) {
        state_json_str(j, "file", r->name);
        state_json_uint(j, "bytes", r->size);
        state_json_str(j, "outcome", ok ? "complete" : "failed");
        state_json_fixed(j, "seconds", 3, r->seconds);
        state_json_fixed(j, "goodput_bps", 1, goodput);
        state_json_uint(j, "frames_ok", r->frames_ok);
        state_json_uint(j, "frames_bad_crc", r->frames_bad);
        state_json_uint(j, "duplicates", r->duplicates);
        state_json_str(j, "labelling", r->labelled ? "gray-like" : "identity");
        state_json_uint(j, "eval_bits", r->eval_bits);
        state_json_sig(j, "ber_identity", 4, ber_id);
        state_json_sig(j, "ber_labelled", 4, ber_lab);
    }
    if (j == NULL || state_json_write(j, c->state_dir, "xfer.json") < 0)
        al_warn("xfer.json: %s", al_error_message());
    state_json_destroy(&j);
    if (ok)
        al_info("received '%s' into %s: %llu bytes in %.2f s (goodput %.0f bit/s), %u DATA "
                "frames with a good CRC, %u with a bad one; bit error rate of the last "
                "evaluation: %.4g %s labelling, %.4g identity",
                r->name, c->receive, (unsigned long long)r->size, r->seconds, goodput,
                r->frames_ok, r->frames_bad, ber_lab, r->labelled ? "Gray-like" : "identity",
                ber_id);
    else
        al_error("file '%s' not written: %s", r->name, al_error_message());
}

void xfer_receive_offer(xfer_rx_t *x, const daemon_config *c, const fb_xfer_offer *o,
                        uint64_t *log_ms)
{
    int rc = xfer_rx_offer(x, o, al_now_s());
    if (rc < 0) {
        al_log_ratelimited(AL_LOG_ERROR, log_ms, 5000, "file '%s' refused: %s", o->name,
                           al_error_message());
    } else if (rc == 1) {
        al_info("receiving '%s': %llu bytes in %u segments, %s labelling", o->name,
                (unsigned long long)o->size, o->segments, o->labels ? "Gray-like" : "identity");
        if (xfer_rx_get_result(x)->state != FB_XFER_RECEIVING)
            s_report(x, c);   /* an empty file is complete at once */
    }
}

void xfer_receive_frame(xfer_rx_t *x, const daemon_config *c, uint64_t session_seed,
                        uint32_t seq, const uint32_t *decisions)
{
    if (xfer_rx_frame(x, session_seed, seq, decisions, al_now_s()) != 0)
        s_report(x, c);
}
