/* airlearn — settings of the simulated-channel radio (driver=airsim).
 *
 * Every device argument the airsim SoapySDR module accepts is described
 * once in airsim_config_table (the same opt_desc table the daemons use for
 * their INI files), so that parsing, range checks and the descriptions
 * printed by `SoapySDRUtil --probe="driver=airsim"` never disagree.
 *
 * The channel impairments apply on the receiving side: a TX device only
 * needs `link` (and `clock`); an RX device adds the impairments.
 * Plain data, no ownership, no threads.
 */
#ifndef AIRSIM_CONFIG_H
#define AIRSIM_CONFIG_H

#include "al_options.h"

#include <stddef.h>
#include <stdint.h>

enum {
    AIRSIM_LINK_MAX = 256,
    AIRSIM_MAX_TAPS = 32,
};

/* Bounds of `ppm` and of a tuned frequency, here because the wire format
 * validates the TX's values against them too. */
#define AIRSIM_PPM_MAX 1000.0
#define AIRSIM_FREQ_MAX 1e12

typedef enum { AIRSIM_CLOCK_REALTIME = 0, AIRSIM_CLOCK_FAST = 1 } airsim_clock;

/* Which real radio the device imitates through the SoapySDR API (stream
 * formats, MTU, gains, rates, time, duplex, TX buffering, unplug); the
 * profile's default settings are rows of airsim_profile_defaults. */
typedef enum {
    AIRSIM_PROFILE_IDEAL = 0,    /* airsim's own API, no receiver model */
    AIRSIM_PROFILE_HACKRF = 1,   /* HackRF One through SoapyHackRF 0.3.x */
    AIRSIM_PROFILE_B2X0 = 2,     /* USRP B200/B210 through SoapyUHD 0.4.1 */
} airsim_profile;

typedef enum {
    AIRSIM_FADING_NONE = 0,
    AIRSIM_FADING_BLOCK = 1,     /* h ~ CN(0,1), new for every burst */
    AIRSIM_FADING_RAYLEIGH = 2,  /* Clarke/Jakes, time-varying at `doppler` */
} airsim_fading;

/* The device arguments' words for airsim_clock, airsim_profile and
 * airsim_fading, in enum order, NULL-terminated (for option tables). */
extern const char *const airsim_clock_names[];
extern const char *const airsim_profile_names[];
extern const char *const airsim_fading_names[];

typedef struct {
    char link[AIRSIM_LINK_MAX];  /* ZeroMQ endpoint shared by TX and RX */
    int clock;                   /* airsim_clock */
    int profile;                 /* airsim_profile */
    /* Receiver and transmitter model of the hackrf and b2x0 profiles
     * (airsim_front.h); adc_bits also applies to the ideal profile. */
    unsigned adc_bits;           /* RX quantization at full scale, 0: none */
    double nf_db;                /* receiver noise figure */
    double fs_dbm;               /* RX input power reaching full scale at 0 dB gain */
    double tx_dbm;               /* TX power of a unit-power signal at maximum gain */
    /* Fault: the board is unplugged unplug_after seconds after the first
     * open of this link in the process; a reopen succeeds replug_after
     * seconds after that (0: never). */
    double unplug_after, replug_after;
    double snr_db;               /* SNR of a 0 dBFS unit-power burst */
    double noise_dbfs;           /* noise power, dBFS */
    double cfo_hz;               /* carrier frequency offset */
    double delay;                /* samples, fractional, >= 0 */
    double phase;                /* radians */
    double gain_db;              /* path gain */
    char multipath[512];         /* "1;0.2+0.1j;..." taps at 1-sample spacing */
    int fading;                  /* airsim_fading */
    double doppler_hz;           /* for fading=rayleigh */
    uint64_t seed;
    /* Fault injection (reliability tests): every k-th TX message lost,
     * one RX overflow every k reads; 0 = never. */
    unsigned drop_every;
    unsigned overflow_every;
    unsigned underflow_every;   /* TX: an underflow event every k writes */
    /* RX: the link goes dead for outage_for seconds every outage_every
     * seconds (0: never): bursts in between are lost. */
    double outage_every, outage_for;
    /* RF front end of this device. ppm: its oscillator error, for both
     * the carrier (CFO = ppm x tuned frequency) and the sample clock; a TX
     * device sends its own ppm and frequency to the RX, which applies the
     * pair's difference. A profile's ppm describes a typical pair: a TX
     * device runs at +ppm, an RX device at -ppm, unless `ppm` is given
     * (ppm_given). The others act on the RX device's stream. */
    double ppm;
    double dc_dbc;               /* LO leakage, dB below a unit-power (0 dBFS) signal */
    double iq_gain_db;           /* Q branch gain relative to I */
    double iq_phase_deg;         /* Q branch phase error */
    double phase_noise_hz;       /* Wiener phase noise, Lorentzian linewidth */

    /* Derived by airsim_config_finish(); not device arguments. */
    int have_noise;
    int have_dc;                 /* dc_dbc given */
    int ppm_given;               /* ppm given as a device argument, not by a profile */
    double noise_power;          /* linear, relative to full scale */
    unsigned ntaps;
    float taps[2 * AIRSIM_MAX_TAPS];   /* interleaved re, im */
} airsim_config;

extern const opt_desc airsim_config_table[];

/* Defaults: link ipc://@airsim (Linux abstract socket), clock realtime,
 * no impairments. */
void airsim_config_default(airsim_config *c);

/* One default setting of a profile, as a device argument would give it.
 * Terminated by a row with profile NULL. */
typedef struct {
    const char *profile;
    const char *key;
    const char *value;
} airsim_profile_default;

extern const airsim_profile_default airsim_profile_defaults[];

/* Sets `profile` and applies its default rows; the caller applies the
 * user's own arguments after it, so that each overrides its part. */
int airsim_config_set_profile(airsim_config *c, const char *name);

/* Set one device argument. Keys SoapySDR itself adds (driver, label,
 * serial, soapy) are accepted and ignored; so are keys of other software
 * (SoapySDR wrappers add their own, e.g. remote:driver), logged at debug
 * level, unless they look like a typo of one of airsim's keys (edit
 * distance, case). Typos and bad values give AL_EINVAL with "key: why"
 * in al_error_message(). `profile` goes through airsim_config_set_profile
 * before any other key. */
int airsim_config_set(airsim_config *c, const char *key, const char *value);

/* All device arguments at once, in any order: defaults, then the
 * profile's rows, then every other key given, then airsim_config_finish.
 * 0 or AL_EINVAL. */
int airsim_config_parse(airsim_config *c, const char *const *keys, const char *const *values,
                        size_t n);

/* Checks combinations (snr_db and noise_dbfs both set, doppler without
 * fading=rayleigh, ...) and fills the derived fields. 0 or AL_EINVAL. */
int airsim_config_finish(airsim_config *c);

#endif
