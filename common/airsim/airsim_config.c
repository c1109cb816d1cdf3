#include "airsim_config.h"

#include "al_error.h"
#include "al_log.h"

#include <complex.h>
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define S "airsim"
#define F(field) offsetof(airsim_config, field)

const char *const airsim_clock_names[] = {"realtime", "fast", NULL};
const char *const airsim_fading_names[] = {"none", "rayleigh-block", "rayleigh", NULL};
const char *const airsim_profile_names[] = {"ideal", "hackrf", "b2x0", NULL};

const opt_desc airsim_config_table[] = {
    {S, "link", OPT_STRING, F(link), AIRSIM_LINK_MAX, 0, 0, NULL, "ipc://@airsim",
     "ZeroMQ endpoint joining one TX device to one RX device (ipc:// or tcp://)"},
    {S, "clock", OPT_ENUM, F(clock), 0, 0, 0, airsim_clock_names, "realtime",
     "realtime: paced at the sample rate; fast: the TX sample count drives the clock"},
    {S, "profile", OPT_ENUM, F(profile), 0, 0, 0, airsim_profile_names, "ideal",
     "the real radio imitated through the API: ideal (airsim's own), hackrf, b2x0"},
    {S, "adc_bits", OPT_UINT, F(adc_bits), 0, 0, 16, NULL, "0",
     "RX: quantize to this many bits at full scale, clipping (0: none; hackrf 8, b2x0 12)"},
    {S, "nf_db", OPT_DOUBLE, F(nf_db), 0, 0, 40, NULL, "0",
     "RX, hackrf/b2x0: receiver noise figure, dB (thermal noise kTBF before the gains)"},
    {S, "fs_dbm", OPT_DOUBLE, F(fs_dbm), 0, -150, 30, NULL, "0",
     "RX, hackrf/b2x0: input power reaching ADC full scale at 0 dB RX gain, dBm"},
    {S, "tx_dbm", OPT_DOUBLE, F(tx_dbm), 0, -100, 40, NULL, "0",
     "TX, hackrf/b2x0: power of a unit-power signal at maximum TX gain, dBm"},
    {S, "snr_db", OPT_DOUBLE, F(snr_db), 0, -50, 100, NULL, "0",
     "RX: AWGN for this SNR of a 0 dBFS unit-power burst (default: no noise)"},
    {S, "noise_dbfs", OPT_DOUBLE, F(noise_dbfs), 0, -200, 20, NULL, "0",
     "RX: AWGN power in dBFS, instead of snr_db (default: no noise)"},
    {S, "cfo", OPT_DOUBLE, F(cfo_hz), 0, -1e9, 1e9, NULL, "0",
     "RX: carrier frequency offset, Hz (|cfo| < rate/2)"},
    {S, "delay", OPT_DOUBLE, F(delay), 0, 0, 1e7, NULL, "0",
     "RX: propagation delay in samples, fractional"},
    {S, "phase", OPT_DOUBLE, F(phase), 0, -1e3, 1e3, NULL, "0",
     "RX: carrier phase offset, radians"},
    {S, "gain_db", OPT_DOUBLE, F(gain_db), 0, -150, 60, NULL, "0", "RX: path gain, dB"},
    {S, "multipath", OPT_STRING, F(multipath), 512, 0, 0, NULL, "",
     "RX: complex taps at one-sample spacing separated by ; e.g. 1;0.3+0.2j;-0.1j"},
    {S, "fading", OPT_ENUM, F(fading), 0, 0, 0, airsim_fading_names, "none",
     "RX: rayleigh-block draws h~CN(0,1) per burst; rayleigh varies at doppler"},
    {S, "doppler", OPT_DOUBLE, F(doppler_hz), 0, 0, 1e6, NULL, "0",
     "RX: maximum Doppler frequency for fading=rayleigh, Hz"},
    {S, "seed", OPT_U64, F(seed), 0, 0, 9007199254740992.0, NULL, "1",
     "RX: seed of noise and fading (same seed, same samples)"},
    {S, "unplug_after", OPT_DOUBLE, F(unplug_after), 0, 0, 1e6, NULL, "0",
     "fault injection: the board is unplugged this many seconds after the link's first "
     "open in this process (0: never)"},
    {S, "replug_after", OPT_DOUBLE, F(replug_after), 0, 0, 1e6, NULL, "0",
     "fault injection: a reopen succeeds this many seconds after the unplug (0: never)"},
    {S, "drop_every", OPT_UINT, F(drop_every), 0, 0, 1e9, NULL, "0",
     "fault injection, TX: lose every k-th burst message (0: never)"},
    {S, "overflow_every", OPT_UINT, F(overflow_every), 0, 0, 1e9, NULL, "0",
     "fault injection, RX: an overflow every k reads (0: never)"},
    {S, "underflow_every", OPT_UINT, F(underflow_every), 0, 0, 1e9, NULL, "0",
     "fault injection, TX: report an underflow every k writes (0: never)"},
    {S, "outage_every", OPT_DOUBLE, F(outage_every), 0, 0, 1e6, NULL, "0",
     "fault injection, RX: seconds between link outages (0: never)"},
    {S, "outage_for", OPT_DOUBLE, F(outage_for), 0, 0, 1e6, NULL, "1",
     "fault injection, RX: seconds each outage lasts"},
    {S, "ppm", OPT_DOUBLE, F(ppm), 0, -AIRSIM_PPM_MAX, AIRSIM_PPM_MAX, NULL, "0",
     "oscillator error of this device, ppm: carrier offset ppm x frequency and sample-clock "
     "offset (TX and RX: the link sees the difference; a profile's default is a pair's, "
     "+ppm on a TX device, -ppm on an RX device)"},
    {S, "dc_dbc", OPT_DOUBLE, F(dc_dbc), 0, -200, 0, NULL, "-200",
     "RX: DC offset / LO leakage, dB relative to a unit-power channel signal (ideal: full "
     "scale; hackrf/b2x0: tx_dbm at the antenna, so the RX gain scales it) (default: none)"},
    {S, "iq_gain_db", OPT_DOUBLE, F(iq_gain_db), 0, -6, 6, NULL, "0",
     "RX: IQ imbalance, gain of the Q branch relative to I, dB"},
    {S, "iq_phase_deg", OPT_DOUBLE, F(iq_phase_deg), 0, -45, 45, NULL, "0",
     "RX: IQ imbalance, phase error of the Q branch, degrees"},
    {S, "phase_noise", OPT_DOUBLE, F(phase_noise_hz), 0, 0, 1e6, NULL, "0",
     "RX: Wiener phase noise of this linewidth (Lorentzian, Hz; 0: none)"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* What a profile sets, one key a row. Sources: SPEC section 9; hackrf:
 * HackRF One FAQ (TX power 5-15 dBm below 2170 MHz, maximum RX input
 * -5 dBm), 8-bit MAX5864 ADC; b2x0: Ettus B200/B210 datasheet (noise
 * figure < 8 dB, TX power > 10 dBm), 12-bit AD9361 ADC. The noise
 * figure of the HackRF and the full-scale input of both boards are not
 * published: modelling assumptions (README). */
const airsim_profile_default airsim_profile_defaults[] = {
    {"hackrf", "adc_bits", "8"},
    {"hackrf", "nf_db", "11"},
    {"hackrf", "fs_dbm", "-5"},
    {"hackrf", "tx_dbm", "10"},
    {"b2x0", "adc_bits", "12"},
    {"b2x0", "nf_db", "8"},
    {"b2x0", "fs_dbm", "-10"},
    {"b2x0", "tx_dbm", "10"},
    /* RF front end (README, "The simulated radio"). ppm: a pair whose
     * boards sit half the per-board tolerance off in opposite directions
     * (TX +ppm, RX -ppm): HackRF crystal +-20 ppm (SPEC section 9), whose
     * LO and sample clock share the reference (greatscottgadgets/hackrf
     * issue 1416); B2x0 TCXO +-2 ppm. b2x0 IQ imbalance: AD9361 quadrature
     * gain error 0.2 % and phase error 0.2 deg typical (Analog Devices
     * EngineerZone, "AD9361 MDS sensitivity and EVM"). No public figure
     * found for the HackRF's LO leakage and IQ imbalance (MAX2837, no DC
     * correction: hasDCOffsetMode false), the B2x0's DC residue after
     * UHD's correction, or either LO as a Wiener linewidth: conservative
     * choices, stated in the README. dc_dbc is relative to the channel's
     * unit-power signal, tx_dbm (10 dBm) at the antenna in these
     * profiles: the leakage is input-referred (-80 / -100 dBm), below an
     * LSB at 0 dB RX gain and a spike at high gain, as self-mixing DC
     * grows with the receiver's gain. */
    {"hackrf", "ppm", "10"},
    {"hackrf", "dc_dbc", "-90"},
    {"hackrf", "iq_gain_db", "0.5"},
    {"hackrf", "iq_phase_deg", "3"},
    {"hackrf", "phase_noise", "1"},
    {"b2x0", "ppm", "1"},
    {"b2x0", "dc_dbc", "-110"},
    {"b2x0", "iq_gain_db", "0.017"},
    {"b2x0", "iq_phase_deg", "0.2"},
    {"b2x0", "phase_noise", "0.1"},
    {NULL, NULL, NULL},
};

void airsim_config_default(airsim_config *c)
{
    memset(c, 0, sizeof *c);
    /* The table's defaults are constants checked by the tests. */
    (void)opt_defaults(airsim_config_table, c);
}

int airsim_config_set_profile(airsim_config *c, const char *name)
{
    char why[200];
    if (opt_set(airsim_config_table, c, S, "profile", name, why, sizeof why) != 0)
        return AL_FAIL(AL_EINVAL, "airsim argument profile: %s", why);
    for (const airsim_profile_default *d = airsim_profile_defaults; d->profile; d++)
        if (strcmp(d->profile, name) == 0 && airsim_config_set(c, d->key, d->value) != 0)
            return AL_FAIL(AL_EINVAL, "airsim profile %s: default %s=%s: %s", name, d->key,
                           d->value, al_error_message());
    c->ppm_given = 0;   /* the profile's ppm is a pair's: see airsim_config.h */
    return AL_OK;
}

/* Optimal string alignment distance (a transposition counts as one
 * edit), case-insensitive: "snrdb", "Seed" and "dealy" are typos. */
static unsigned s_edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 32 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXLEN || lb >= MAXLEN)
        return MAXLEN;
    unsigned d[MAXLEN + 1][MAXLEN + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            unsigned best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The airsim key `key` is probably a misspelling of, or NULL. Keys with a
 * ':' are namespaced by a wrapper (remote:driver) and never ours. */
static const char *s_typo_of(const char *key)
{
    if (strchr(key, ':') != NULL)
        return NULL;
    size_t len = strlen(key);
    unsigned allowed = len >= 6 ? 2 : 1;
    for (const opt_desc *d = airsim_config_table; d->name; d++)
        if (s_edit_distance(key, d->name) <= allowed)
            return d->name;
    return NULL;
}

int airsim_config_set(airsim_config *c, const char *key, const char *value)
{
    static const char *const soapy_keys[] = {"driver", "label", "serial", "soapy", NULL};
    for (int i = 0; soapy_keys[i]; i++)
        if (strcmp(key, soapy_keys[i]) == 0)
            return AL_OK;
    int ours = 0;
    for (const opt_desc *d = airsim_config_table; d->name && !ours; d++)
        ours = strcmp(key, d->name) == 0;
    if (!ours) {
        const char *near = s_typo_of(key);
        if (near != NULL)
            return AL_FAIL(AL_EINVAL, "airsim argument %s: unknown setting (did you mean %s?)",
                           key, near);
        /* A wrapper's or another driver's key, forwarded to us: a driver
         * ignores keys it does not own (SoapySDR's convention). */
        al_debug("airsim: ignoring device argument %s=%s (not airsim's)", key, value);
        return AL_OK;
    }
    if (strcmp(key, "profile") == 0) {
        /* Applied again only when it changes: the defaults would undo
         * the user's keys given before it. */
        if (c->profile >= 0 && airsim_profile_names[c->profile] &&
            strcmp(value, airsim_profile_names[c->profile]) == 0)
            return AL_OK;
        return airsim_config_set_profile(c, value);
    }
    char why[200];
    if (opt_set(airsim_config_table, c, S, key, value, why, sizeof why) != 0)
        return AL_FAIL(AL_EINVAL, "airsim argument %s: %s", key, why);
    if (strcmp(key, "snr_db") == 0)
        c->have_noise |= 1;
    else if (strcmp(key, "noise_dbfs") == 0)
        c->have_noise |= 2;
    else if (strcmp(key, "dc_dbc") == 0)
        c->have_dc = 1;
    else if (strcmp(key, "ppm") == 0)
        c->ppm_given = 1;
    return AL_OK;
}

int airsim_config_parse(airsim_config *c, const char *const *keys, const char *const *values,
                        size_t n)
{
    airsim_config_default(c);
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], "profile") == 0 && airsim_config_set_profile(c, values[i]) != 0)
            return AL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], "profile") != 0 && airsim_config_set(c, keys[i], values[i]) != 0)
            return AL_EINVAL;
    return airsim_config_finish(c);
}

/* One tap: "a", "a+bj", "a-bj", "bj". */
static int s_parse_tap(const char *text, float *re, float *im)
{
    char *end;
    double a = strtod(text, &end);
    if (end == text)
        return -1;
    if (*end == 'j' || *end == 'i') {
        *re = 0.0f;
        *im = (float)a;
        end++;
    } else {
        *re = (float)a;
        *im = 0.0f;
        if (*end == '+' || *end == '-') {
            const char *start = end;
            double b = strtod(start, &end);
            if (end == start || (*end != 'j' && *end != 'i'))
                return -1;
            *im = (float)b;
            end++;
        }
    }
    if (*end != '\0' || !isfinite(*re) || !isfinite(*im))
        return -1;
    return 0;
}

static int s_parse_taps(airsim_config *c)
{
    c->ntaps = 0;
    if (c->multipath[0] == '\0')
        return AL_OK;
    char buf[sizeof c->multipath];
    memcpy(buf, c->multipath, sizeof buf);
    char *save = NULL;
    double energy = 0.0;
    for (char *tok = strtok_r(buf, ",; ", &save); tok; tok = strtok_r(NULL, ",; ", &save)) {
        if (c->ntaps == AIRSIM_MAX_TAPS)
            return AL_FAIL(AL_EINVAL, "airsim argument multipath: more than %d taps",
                           AIRSIM_MAX_TAPS);
        float *t = &c->taps[2 * c->ntaps];
        if (s_parse_tap(tok, &t[0], &t[1]) != 0)
            return AL_FAIL(AL_EINVAL,
                           "airsim argument multipath: '%s' is not a complex tap (a, a+bj, bj)",
                           tok);
        energy += (double)t[0] * t[0] + (double)t[1] * t[1];
        c->ntaps++;
    }
    if (c->ntaps == 0 || energy <= 0.0)
        return AL_FAIL(AL_EINVAL, "airsim argument multipath: all taps are zero");
    return AL_OK;
}

int airsim_config_finish(airsim_config *c)
{
    if (strncmp(c->link, "ipc://", 6) != 0 && strncmp(c->link, "tcp://", 6) != 0)
        return AL_FAIL(AL_EINVAL, "airsim argument link: '%s' is not an ipc:// or tcp:// endpoint",
                       c->link);
    if (c->have_noise == 3)
        return AL_FAIL(AL_EINVAL, "airsim arguments snr_db and noise_dbfs: give one, not both");
    if (c->doppler_hz > 0.0 && c->fading != AIRSIM_FADING_RAYLEIGH)
        return AL_FAIL(AL_EINVAL, "airsim argument doppler: only meaningful with fading=rayleigh");
    if (c->fading == AIRSIM_FADING_RAYLEIGH && c->doppler_hz <= 0.0)
        return AL_FAIL(AL_EINVAL, "airsim argument fading=rayleigh needs doppler > 0 (Hz)");
    c->noise_power = 0.0;
    if (c->have_noise & 1)
        c->noise_power = pow(10.0, -c->snr_db / 10.0);
    else if (c->have_noise & 2)
        c->noise_power = pow(10.0, c->noise_dbfs / 10.0);
    return s_parse_taps(c);
}
