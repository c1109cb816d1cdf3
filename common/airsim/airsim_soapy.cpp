// airlearn — driver=airsim: the SoapySDR module glue.
//
// Only translation lives here: SoapySDR's C++ device API on one side, the
// C objects of airsim_link.h (transport, clocks) and airsim_chan.h (the
// channel) on the other. Every device argument is parsed and checked by
// airsim_config (C), which also provides the descriptions shown by
// `SoapySDRUtil --probe="driver=airsim"`.

extern "C" {
#include "airsim_config.h"
#include "airsim_link.h"
#include "airsim_txbuf.h"
#include "airsim_wire.h"
#include "al_error.h"
#include "al_log.h"
}

#include <SoapySDR/Device.hpp>
#include <SoapySDR/Formats.hpp>
#include <SoapySDR/Logger.hpp>
#include <SoapySDR/Modules.hpp>
#include <SoapySDR/Registry.hpp>
#include <SoapySDR/Time.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

struct Stream {
    int direction;
    airsim_format format;
    airsim_tx_t *tx = nullptr;
    airsim_rx_t *rx = nullptr;
    airsim_txbuf_t *txb = nullptr;   // profile=hackrf TX
};

// unplug_after / replug_after: the board behind a link, per process, so
// that it survives unmake + make (the way a daemon reopens a radio).
struct Board {
    Clock::time_point unplug_at;
    double replug_after;
};
std::mutex boards_mutex;
std::map<std::string, Board> boards;

// When the device made now dies (Clock::time_point::max(): never); throws
// as for a missing board while it is unplugged.
Clock::time_point boardCheck(const airsim_config &cfg)
{
    std::lock_guard<std::mutex> lock(boards_mutex);
    auto now = Clock::now();
    auto it = boards.find(cfg.link);
    if (it == boards.end()) {
        if (cfg.unplug_after <= 0.0)
            return Clock::time_point::max();
        auto at = now + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(cfg.unplug_after));
        it = boards.emplace(cfg.link, Board{at, cfg.replug_after}).first;
    }
    const Board &b = it->second;
    if (now < b.unplug_at)
        return b.unplug_at;
    auto back = b.unplug_at + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(b.replug_after));
    if (b.replug_after > 0.0 && now >= back)
        return Clock::time_point::max();   // replugged: stays up
    throw std::runtime_error(std::string("airsim ") + cfg.link +
                             ": no device (unplugged by unplug_after" +
                             (b.replug_after > 0.0 ? ", back after replug_after)" : ")"));
}

// Gain elements of the profiles. HackRF: SoapyHackRF 0.3.x listGains and
// getGainRange (steps as 0.3.4 reports them), values applied as
// libhackrf's hackrf_set_lna_gain / _vga_gain / _txvga_gain do: rounded
// down to the step, refused (board unchanged) above the maximum. B2x0:
// UHD's "PGA" of the AD9361 frontends, clipped to the range.
struct GainElement {
    const char *name;
    double max, step;
};
const GainElement hackrf_rx_gains[] = {{"LNA", 40, 8}, {"AMP", 14, 14}, {"VGA", 62, 2}};
const GainElement hackrf_tx_gains[] = {{"VGA", 47, 1}, {"AMP", 14, 14}};
const GainElement b2x0_rx_gains[] = {{"PGA", 76, 1}};
const GainElement b2x0_tx_gains[] = {{"PGA", 89.75, 0.25}};

class AirsimDevice : public SoapySDR::Device {
  public:
    AirsimDevice(const airsim_config &cfg, const SoapySDR::Kwargs &args, Clock::time_point dies)
        : cfg_(cfg), args_(args), t0_(Clock::now()), dies_(dies)
    {
        if (hackrf()) {
            // SoapyHackRF's constructor: RX LNA 16, VGA 16, AMP 0; TX 0.
            rate_[0] = rate_[1] = 10e6;
            gains_[SOAPY_SDR_RX] = {{"LNA", 16}, {"AMP", 0}, {"VGA", 16}};
            gains_[SOAPY_SDR_TX] = {{"VGA", 0}, {"AMP", 0}};
        } else if (b2x0()) {
            gains_[SOAPY_SDR_RX] = {{"PGA", 0}};
            gains_[SOAPY_SDR_TX] = {{"PGA", 0}};
        }
        effective_[0] = gains_[0];
        effective_[1] = gains_[1];
    }

    ~AirsimDevice() override
    {
        if (tx_)
            closeStream(reinterpret_cast<SoapySDR::Stream *>(tx_));
        if (rx_)
            closeStream(reinterpret_cast<SoapySDR::Stream *>(rx_));
    }

    std::string getDriverKey() const override { return "airsim"; }
    std::string getHardwareKey() const override
    {
        static const char *const keys[] = {"airsim", "HackRF One", "B200"};
        return keys[cfg_.profile];
    }

    SoapySDR::Kwargs getHardwareInfo() const override
    {
        return {{"origin", "airlearn"}, {"version", AL_VERSION}, {"link", cfg_.link},
                {"clock", airsim_clock_names[cfg_.clock]},
                {"profile", airsim_profile_names[cfg_.profile]}};
    }

    size_t getNumChannels(const int) const override { return 1; }
    // SoapyHackRF: getFullDuplex false (one board transmits or receives).
    bool getFullDuplex(const int, const size_t) const override { return !hackrf(); }

    // ---- streams ----

    std::vector<std::string> getStreamFormats(const int, const size_t) const override
    {
        // The drivers also offer CF64 (both) and CS12 (UHD): not here.
        if (hackrf())
            return {SOAPY_SDR_CS8, SOAPY_SDR_CS16, SOAPY_SDR_CF32};
        if (b2x0())
            return {SOAPY_SDR_CS8, SOAPY_SDR_CS16, SOAPY_SDR_CF32};
        return {SOAPY_SDR_CF32, SOAPY_SDR_CS16};
    }

    std::string getNativeStreamFormat(const int, const size_t, double &fullScale) const override
    {
        if (hackrf()) {   // HackRF_Streaming.cpp
            fullScale = 128;
            return SOAPY_SDR_CS8;
        }
        if (b2x0()) {   // SoapyUHDDevice.cpp
            fullScale = 1 << 15;
            return SOAPY_SDR_CS16;
        }
        fullScale = 1.0;
        return SOAPY_SDR_CF32;
    }

    SoapySDR::ArgInfoList getStreamArgsInfo(const int, const size_t) const override
    {
        if (!hackrf())
            return {};
        SoapySDR::ArgInfo buffers;
        buffers.key = "buffers";
        buffers.value = std::to_string(AIRSIM_HACKRF_BUFFERS);
        buffers.name = "Buffer Count";
        buffers.description = "Number of buffers of 131072 samples";
        buffers.units = "buffers";
        buffers.type = SoapySDR::ArgInfo::INT;
        return {buffers};
    }

    SoapySDR::Stream *setupStream(const int direction, const std::string &format,
                                  const std::vector<size_t> &channels,
                                  const SoapySDR::Kwargs &args) override
    {
        if (channels.size() > 1 || (channels.size() == 1 && channels[0] != 0))
            throw std::runtime_error("airsim has one channel per direction (channel 0)");
        airsim_format fmt;
        if (format == SOAPY_SDR_CF32)
            fmt = AIRSIM_CF32;
        else if (format == SOAPY_SDR_CS16)
            fmt = AIRSIM_CS16;
        else if (format == SOAPY_SDR_CS8 && cfg_.profile != AIRSIM_PROFILE_IDEAL)
            fmt = AIRSIM_CS8;
        else
            throw std::runtime_error("airsim cannot stream " + format);
        unsigned buffers = hackrfBuffers(args);
        std::lock_guard<std::mutex> lock(mutex_);
        int d = dir(direction);
        Stream *&slot = d == SOAPY_SDR_TX ? tx_ : rx_;
        if (slot)
            throw std::runtime_error("airsim: this direction already has a stream");
        auto *s = new Stream{d, fmt};
        if (d == SOAPY_SDR_TX && hackrf()) {
            s->txb = airsim_txbuf_create(&cfg_, rate_[d], buffers);
            if (s->txb)
                airsim_txbuf_set_gain(s->txb, txGainDb());
        } else if (d == SOAPY_SDR_TX) {
            s->tx = airsim_tx_create(&cfg_, rate_[d]);
            if (s->tx)
                airsim_tx_set_gain(s->tx, txGainDb());
        } else {
            s->rx = airsim_rx_create(&cfg_, rate_[d]);
            if (s->rx)
                airsim_rx_set_gain(s->rx, rxGainDb());
        }
        if (!s->tx && !s->rx && !s->txb) {
            std::string why = al_error_message();
            delete s;
            throw std::runtime_error(why);
        }
        // The oscillator's carrier offset follows the tuned frequency.
        if (s->tx)
            airsim_tx_set_frequency(s->tx, freq_[SOAPY_SDR_TX]);
        else if (s->txb)
            airsim_txbuf_set_frequency(s->txb, freq_[SOAPY_SDR_TX]);
        else
            airsim_rx_set_frequency(s->rx, freq_[SOAPY_SDR_RX]);
        slot = s;
        return reinterpret_cast<SoapySDR::Stream *>(s);
    }

    void closeStream(SoapySDR::Stream *stream) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        std::lock_guard<std::mutex> lock(mutex_);
        (s->direction == SOAPY_SDR_TX ? tx_ : rx_) = nullptr;
        if (mode_ == s->direction)
            mode_ = -1;
        airsim_tx_destroy(&s->tx);
        airsim_txbuf_destroy(&s->txb);
        airsim_rx_destroy(&s->rx);
        delete s;
    }

    size_t getStreamMTU(SoapySDR::Stream *) const override { return mtu(); }

    int activateStream(SoapySDR::Stream *stream, const int, const long long, const size_t) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (hackrf())
            return switchTo(s->direction);
        if (s->tx)
            airsim_tx_activate(s->tx);
        else
            airsim_rx_activate(s->rx);
        return 0;
    }

    int deactivateStream(SoapySDR::Stream *stream, const int, const long long) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (hackrf() && mode_ == s->direction) {   // hackrf_stop_tx / hackrf_stop_rx
            if (s->txb)
                airsim_txbuf_deactivate(s->txb);
            mode_ = -1;
        }
        return 0;
    }

    int readStream(SoapySDR::Stream *stream, void *const *buffs, const size_t numElems,
                   int &flags, long long &timeNs, const long timeoutUs) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (!s->rx)
            return SOAPY_SDR_NOT_SUPPORTED;
        if (int rc = unplugged(timeoutUs))
            return rc;
        int64_t ticks = 0;
        if (!hackrf()) {
            int n = airsim_rx_read(s->rx, buffs[0], s->format, clamp(numElems), &ticks, timeoutUs);
            flags = 0;
            if (n > 0) {
                flags = SOAPY_SDR_HAS_TIME;
                timeNs = SoapySDR::ticksToTimeNs(ticks, rate_[SOAPY_SDR_RX]);
            }
            return n;
        }
        // SoapyHackRF acquireReadBuffer: a board in TX mode first sends
        // what is queued, then turns to RX.
        if (mode_ != SOAPY_SDR_RX) {
            if (tx_ && airsim_txbuf_wait_empty(tx_->txb, timeoutUs) != 0)
                return SOAPY_SDR_TIMEOUT;
            switchTo(SOAPY_SDR_RX);
        }
        // No hardware time: no HAS_TIME; timeNs untouched, as the driver.
        // SoapyHackRF's readStream hands out the rest of the current
        // buffer, then waits up to the timeout for the next one: on the
        // board the next one is at most a buffer's time away. Under the
        // fast clock only the TX's samples make time, and a TX waiting
        // for feedback makes none, so there a read returns what it has
        // rather than wait for samples no free-running clock would delay.
        static const size_t bytes[] = {8, 4, 2};
        const bool fast = cfg_.clock == AIRSIM_CLOCK_FAST;
        unsigned want = clamp(numElems), got = 0;
        auto deadline = Clock::now() + std::chrono::microseconds(timeoutUs);
        while (got < want) {
            long left = (long)std::chrono::duration_cast<std::chrono::microseconds>(
                            deadline - Clock::now()).count();
            if (fast && got > 0)
                left = 0;
            int n = airsim_rx_read(s->rx, static_cast<uint8_t *>(buffs[0]) + bytes[s->format] * got,
                                   s->format, want - got, &ticks, left > 0 ? left : 0);
            if (n == SOAPY_SDR_OVERFLOW) {   // acquireReadBuffer on overflow
                flags |= SOAPY_SDR_END_ABRUPT;
                SoapySDR::log(SOAPY_SDR_SSI, "O");
                return n;
            }
            if (n <= 0)
                return got > 0 ? (int)got : n;
            got += (unsigned)n;
        }
        return (int)got;
    }

    int writeStream(SoapySDR::Stream *stream, const void *const *buffs, const size_t numElems,
                    int &flags, const long long timeNs, const long timeoutUs) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (!s->tx && !s->txb)
            return SOAPY_SDR_NOT_SUPPORTED;
        if (int rc = unplugged(timeoutUs))
            return rc;
        if (s->txb) {
            // acquireWriteBuffer turns the board to TX; END_BURST and
            // timestamps are not looked at.
            if (mode_ != SOAPY_SDR_TX)
                switchTo(SOAPY_SDR_TX);
            return airsim_txbuf_write(s->txb, buffs[0], s->format, clamp(numElems), timeoutUs);
        }
        unsigned n = clamp(numElems);
        // A partial write must not end the burst: the caller sends the rest.
        int end = (flags & SOAPY_SDR_END_BURST) && n == numElems;
        int has_time = (flags & SOAPY_SDR_HAS_TIME) != 0;
        int64_t ticks = has_time ? SoapySDR::timeNsToTicks(timeNs, rate_[SOAPY_SDR_TX]) : 0;
        return airsim_tx_write(s->tx, buffs[0], s->format, n, has_time, ticks, end, timeoutUs);
    }

    int readStreamStatus(SoapySDR::Stream *stream, size_t &chanMask, int &flags,
                         long long &timeNs, const long timeoutUs) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (!s->tx && !s->txb)
            return SOAPY_SDR_NOT_SUPPORTED;
        if (int rc = unplugged(timeoutUs))
            return rc == SOAPY_SDR_STREAM_ERROR ? rc : SOAPY_SDR_TIMEOUT;
        if (s->txb) {   // the underflow flag only; nothing else is filled in
            int rc = airsim_txbuf_status(s->txb, timeoutUs);
            if (rc == SOAPY_SDR_UNDERFLOW)
                SoapySDR::log(SOAPY_SDR_SSI, "U");   // as SoapyHackRF's readStreamStatus
            return rc;
        }
        int end = 0;
        int64_t ticks = 0;
        int rc = airsim_tx_status(s->tx, &end, &ticks, timeoutUs);
        if (rc == SOAPY_SDR_TIMEOUT)
            return rc;
        chanMask = 1;
        flags = SOAPY_SDR_HAS_TIME | (end ? SOAPY_SDR_END_BURST : 0);
        timeNs = SoapySDR::ticksToTimeNs(ticks, rate_[SOAPY_SDR_TX]);
        return rc;
    }

    // ---- antennas, gains, frequency, rate, bandwidth: recorded, and the
    // gains and rate are used; the simulated channel has no RF front end
    // beyond airsim_front.h's model.

    std::vector<std::string> listAntennas(const int direction, const size_t) const override
    {
        if (hackrf())
            return {"TX/RX"};
        if (b2x0())
            return dir(direction) == SOAPY_SDR_TX ? std::vector<std::string>{"TX/RX"}
                                                  : std::vector<std::string>{"TX/RX", "RX2"};
        return {dir(direction) == SOAPY_SDR_TX ? "TX" : "RX"};
    }
    void setAntenna(const int direction, const size_t, const std::string &name) override
    {
        if (hackrf())
            return;   // SoapyHackRF ignores the name
        auto names = listAntennas(direction, 0);
        for (const auto &n : names)
            if (n == name) {
                antenna_[dir(direction)] = name;
                return;
            }
        throw std::runtime_error("airsim has no antenna " + name);
    }
    std::string getAntenna(const int direction, const size_t) const override
    {
        const std::string &a = antenna_[dir(direction)];
        return a.empty() ? listAntennas(direction, 0)[0] : a;
    }

    std::vector<std::string> listGains(const int direction, const size_t) const override
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL)
            return {"PATH"};
        std::vector<std::string> names;
        for (const auto &e : elements(direction))
            names.push_back(e.name);
        return names;
    }
    SoapySDR::Range getGainRange(const int direction, const size_t) const override
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL)   // TX: attenuation; RX: amplification
            return dir(direction) == SOAPY_SDR_TX ? SoapySDR::Range(-60.0, 0.0, 0.0)
                                                  : SoapySDR::Range(0.0, 60.0, 0.0);
        double max = 0.0;
        for (const auto &e : elements(direction))
            max += e.max;
        return SoapySDR::Range(0.0, max);
    }
    SoapySDR::Range getGainRange(const int direction, const size_t ch, const std::string &name) const override
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL)
            return getGainRange(direction, ch);
        for (const auto &e : elements(direction))
            if (name == e.name)
                return SoapySDR::Range(0.0, e.max, e.step);
        return SoapySDR::Range(0.0, 0.0);   // SoapyHackRF's answer for an unknown name
    }
    void setGain(const int direction, const size_t, const double value) override
    {
        int d = dir(direction);
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL) {
            SoapySDR::Range r = getGainRange(direction, 0);
            double g = value < r.minimum() ? r.minimum() : value > r.maximum() ? r.maximum() : value;
            std::lock_guard<std::mutex> lock(mutex_);
            ideal_gain_[d] = g;
            applyGains();
            return;
        }
        if (b2x0()) {
            setGain(direction, 0, "PGA", value);
            return;
        }
        // SoapyHackRF setGain(direction, value): how it splits a total.
        int g = (int)value;
        std::lock_guard<std::mutex> lock(mutex_);
        if (d == SOAPY_SDR_RX) {
            int amp = 0, vga = 0, lna = 0;
            if (g <= 0) {
            } else if (g <= 20 + 31) {
                vga = (g / 3) & ~1;
                lna = g - vga;
            } else if (g <= 20 + 31 + 14) {
                amp = 14;
                vga = ((g - amp) / 3) & ~1;
                lna = g - amp - vga;
            } else if (g <= 40 + 62 + 14) {
                amp = 14;
                vga = (int)((g - amp) * 40.0 / 62.0);
                lna = g - amp - vga;
            } else {
                return;
            }
            setElement(d, "LNA", lna);
            setElement(d, "VGA", vga);
            setElement(d, "AMP", amp);
        } else {
            int amp = 0, vga = 0;
            if (g <= 0) {
            } else if (g <= 47 / 2) {
                vga = g;
            } else if (g <= 47 + 14) {
                amp = 14;
                vga = g - amp;
            } else {
                return;
            }
            setElement(d, "VGA", vga);
            setElement(d, "AMP", amp);
        }
        applyGains();
    }
    void setGain(const int direction, const size_t ch, const std::string &name, const double value) override
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL) {
            setGain(direction, ch, value);
            return;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        setElement(dir(direction), name, value);
        applyGains();
    }
    double getGain(const int direction, const size_t) const override
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL)
            return ideal_gain_[dir(direction)];
        double sum = 0.0;   // SoapySDR::Device's default: the elements' sum
        for (const auto &kv : gains_[dir(direction)])
            sum += kv.second;
        return sum;
    }
    double getGain(const int direction, const size_t ch, const std::string &name) const override
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL)
            return getGain(direction, ch);
        auto it = gains_[dir(direction)].find(name);
        return it == gains_[dir(direction)].end() ? 0.0 : it->second;
    }

    std::vector<std::string> listFrequencies(const int, const size_t) const override { return {"RF"}; }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t) const override
    {
        if (hackrf())   // HackRF_Settings.cpp
            return {SoapySDR::Range(0, 7250000000.0)};
        if (b2x0())     // B200/B210 datasheet: 70 MHz - 6 GHz
            return {SoapySDR::Range(70e6, 6e9)};
        return {SoapySDR::Range(1e6, 6e9)};
    }
    SoapySDR::RangeList getFrequencyRange(const int d, const size_t c, const std::string &) const override
    {
        return getFrequencyRange(d, c);
    }
    void setFrequency(const int direction, const size_t, const double f, const SoapySDR::Kwargs &) override
    {
        std::lock_guard<std::mutex> lock(mutex_);
        int d = dir(direction), rc = 0;
        Stream *s = d == SOAPY_SDR_TX ? tx_ : rx_;
        if (s && s->tx)
            rc = airsim_tx_set_frequency(s->tx, f);
        else if (s && s->txb)
            rc = airsim_txbuf_set_frequency(s->txb, f);
        else if (s && s->rx)
            rc = airsim_rx_set_frequency(s->rx, f);
        else if (!(f >= 0.0 && f <= AIRSIM_FREQ_MAX))
            rc = AL_FAIL(AL_EINVAL, "airsim frequency %g Hz out of range", f);
        if (rc != 0)
            throw std::runtime_error(al_error_message());
        freq_[d] = f;
    }
    void setFrequency(const int d, const size_t c, const std::string &, const double f,
                      const SoapySDR::Kwargs &a) override
    {
        setFrequency(d, c, f, a);
    }
    double getFrequency(const int direction, const size_t) const override
    {
        return freq_[dir(direction)];
    }
    double getFrequency(const int d, const size_t c, const std::string &) const override
    {
        return getFrequency(d, c);
    }

    SoapySDR::RangeList getSampleRateRange(const int, const size_t) const override
    {
        if (hackrf()) {   // SoapyHackRF has none: SoapySDR's default lists the rates
            SoapySDR::RangeList ranges;
            for (double r : listSampleRates(SOAPY_SDR_RX, 0))
                ranges.push_back(SoapySDR::Range(r, r));
            return ranges;
        }
        if (b2x0())     // AD9361 master clock up to 61.44 MHz
            return {SoapySDR::Range(200e3, 61.44e6)};
        return {SoapySDR::Range(1e3, 100e6)};
    }
    std::vector<double> listSampleRates(const int, const size_t) const override
    {
        if (hackrf()) {   // SoapyHackRF lists whole MHz (from 1 MHz, below the board's 2)
            std::vector<double> rates;
            for (double r = 2e6; r <= 20e6; r += 1e6)
                rates.push_back(r);
            return rates;
        }
        if (b2x0())
            return {1e6, 2e6, 4e6, 5e6, 8e6, 10e6, 16e6, 20e6, 32e6, 56e6};
        return {250e3, 1e6, 2e6, 4e6, 5e6, 8e6, 10e6, 20e6};
    }
    void setSampleRate(const int direction, const size_t, const double rate) override
    {
        // HackRF One: 2-20 Msps (hackrf documentation; libhackrf forwards
        // any rate to the firmware).
        SoapySDR::Range r = hackrf() ? SoapySDR::Range(2e6, 20e6) : getSampleRateRange(direction, 0)[0];
        if (!(rate >= r.minimum() && rate <= r.maximum())) {
            if (hackrf())   // the exception SoapyHackRF throws when libhackrf refuses
                throw std::runtime_error("setSampleRate()");
            throw std::runtime_error("airsim sample rate " + std::to_string(rate) +
                                     " out of range");
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if ((dir(direction) == SOAPY_SDR_TX ? tx_ : rx_) != nullptr)
            throw std::runtime_error("airsim: set the sample rate before setupStream");
        if (hackrf())   // one sample clock for both directions
            rate_[SOAPY_SDR_TX] = rate_[SOAPY_SDR_RX] = rate;
        else
            rate_[dir(direction)] = rate;
    }
    double getSampleRate(const int direction, const size_t) const override
    {
        return rate_[dir(direction)];
    }

    SoapySDR::RangeList getBandwidthRange(const int, const size_t) const override
    {
        return {SoapySDR::Range(1e3, 100e6)};
    }
    void setBandwidth(const int direction, const size_t, const double bw) override
    {
        bw_[dir(direction)] = bw;
    }
    double getBandwidth(const int direction, const size_t) const override
    {
        return bw_[dir(direction)];
    }

    // ---- time ----

    // HackRF: no hardware time (SoapySDR's defaults: false, 0).
    bool hasHardwareTime(const std::string &what) const override { return what.empty() && !hackrf(); }
    long long getHardwareTime(const std::string &) const override
    {
        if (hackrf())
            return 0;
        if (rx_)
            return SoapySDR::ticksToTimeNs(airsim_rx_time(rx_->rx), rate_[SOAPY_SDR_RX]);
        if (tx_)
            return SoapySDR::ticksToTimeNs(airsim_tx_time(tx_->tx), rate_[SOAPY_SDR_TX]);
        auto d = Clock::now() - t0_;
        return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() + time_base_;
    }
    void setHardwareTime(const long long timeNs, const std::string &) override
    {
        if (hackrf())
            return;
        if (rx_)
            airsim_rx_set_time(rx_->rx, SoapySDR::timeNsToTicks(timeNs, rate_[SOAPY_SDR_RX]));
        if (tx_)
            airsim_tx_set_time(tx_->tx, SoapySDR::timeNsToTicks(timeNs, rate_[SOAPY_SDR_TX]));
        auto d = Clock::now() - t0_;
        time_base_ = timeNs - std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    }

    // ---- sensors and settings ----

    std::vector<std::string> listSensors() const override { return {"link_up"}; }
    SoapySDR::ArgInfo getSensorInfo(const std::string &key) const override
    {
        SoapySDR::ArgInfo info;
        info.key = key;
        info.name = "link up";
        info.type = SoapySDR::ArgInfo::BOOL;
        info.description = "a peer device is connected to this device's link";
        return info;
    }
    std::string readSensor(const std::string &key) const override
    {
        if (key != "link_up")
            throw std::runtime_error("airsim has no sensor " + key);
        if (Clock::now() >= dies_)
            return "false";
        bool up = (tx_ && tx_->tx && airsim_tx_link_up(tx_->tx)) ||
                  (tx_ && tx_->txb && airsim_txbuf_link_up(tx_->txb)) ||
                  (rx_ && airsim_rx_link_up(rx_->rx));
        return up ? "true" : "false";
    }

    SoapySDR::ArgInfoList getSettingInfo() const override
    {
        SoapySDR::ArgInfoList list;
        for (const opt_desc *d = airsim_config_table; d->name; d++) {
            SoapySDR::ArgInfo info;
            info.key = d->name;
            info.name = d->name;
            info.value = d->def;
            info.description = std::string(d->help) + " (device argument; read-only here)";
            info.type = SoapySDR::ArgInfo::STRING;
            if (d->type == OPT_DOUBLE)
                info.type = SoapySDR::ArgInfo::FLOAT;
            else if (d->type == OPT_UINT || d->type == OPT_U64)
                info.type = SoapySDR::ArgInfo::INT;
            if (d->type == OPT_ENUM)
                for (const char *const *c = d->choices; *c; c++)
                    info.options.push_back(*c);
            list.push_back(info);
        }
        return list;
    }
    std::string readSetting(const std::string &key) const override
    {
        auto it = args_.find(key);
        if (it != args_.end())
            return it->second;
        for (const airsim_profile_default *p = airsim_profile_defaults; p->profile; p++)
            if (p->profile == std::string(airsim_profile_names[cfg_.profile]) && key == p->key)
                return p->value;
        for (const opt_desc *d = airsim_config_table; d->name; d++)
            if (key == d->name)
                return d->def;
        throw std::runtime_error("airsim has no setting " + key);
    }

  private:
    bool hackrf() const { return cfg_.profile == AIRSIM_PROFILE_HACKRF; }
    bool b2x0() const { return cfg_.profile == AIRSIM_PROFILE_B2X0; }
    static int dir(int direction) { return direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX; }

    size_t mtu() const
    {
        if (hackrf())
            return AIRSIM_HACKRF_BUFLEN;   // BUF_LEN / BYTES_PER_SAMPLE
        if (b2x0())
            return 2040;                   // UHD B200 sc16 over USB: get_max_num_samps()
        return AIRSIM_WIRE_MAX_SAMPLES;
    }
    unsigned clamp(size_t n) const { return static_cast<unsigned>(n > mtu() ? mtu() : n); }

    // SoapyHackRF setupStream: `buffers` through std::stoi; not a number
    // or <= 0 keeps 15, out of int range throws. It reads no `buflen`:
    // the buffer length is libhackrf's transfer size.
    unsigned hackrfBuffers(const SoapySDR::Kwargs &args) const
    {
        if (!hackrf())
            return 0;
        int n = AIRSIM_HACKRF_BUFFERS;
        auto it = args.find("buffers");
        if (it != args.end()) {
            try {
                int v = std::stoi(it->second);
                if (v > 0)
                    n = v;
            } catch (const std::invalid_argument &) {
            }
        }
        if (args.count("buflen"))
            SoapySDR::log(SOAPY_SDR_DEBUG, "airsim hackrf: stream argument buflen is not used "
                                           "(SoapyHackRF 0.3.x reads none)");
        return static_cast<unsigned>(n);
    }

    std::vector<GainElement> elements(int direction) const
    {
        bool tx = dir(direction) == SOAPY_SDR_TX;
        if (hackrf())
            return tx ? std::vector<GainElement>(std::begin(hackrf_tx_gains), std::end(hackrf_tx_gains))
                      : std::vector<GainElement>(std::begin(hackrf_rx_gains), std::end(hackrf_rx_gains));
        if (b2x0())
            return tx ? std::vector<GainElement>(std::begin(b2x0_tx_gains), std::end(b2x0_tx_gains))
                      : std::vector<GainElement>(std::begin(b2x0_rx_gains), std::end(b2x0_rx_gains));
        return {};
    }

    // Caller holds mutex_.
    void setElement(int d, const std::string &name, double value)
    {
        for (const auto &e : elements(d)) {
            if (name != e.name)
                continue;
            if (b2x0()) {
                double g = value < 0 ? 0 : value > e.max ? e.max : value;
                g = std::round(g / e.step) * e.step;
                gains_[d][name] = effective_[d][name] = g;
            } else if (name == "AMP") {
                gains_[d][name] = effective_[d][name] = value > 0 ? e.max : 0.0;
            } else {
                gains_[d][name] = value;   // the driver reports what it was asked
                if (!(value >= 0 && value <= e.max)) {
                    SoapySDR::logf(SOAPY_SDR_ERROR, "hackrf_set_%s_gain(%f) returned "
                                   "HACKRF_ERROR_INVALID_PARAM", name == "LNA" ? "lna" : "vga", value);
                    return;
                }
                effective_[d][name] = std::floor(value / e.step) * e.step;
            }
            return;
        }
        if (b2x0())
            throw std::runtime_error("airsim b2x0 has no gain element " + name);
        // SoapyHackRF ignores names it does not know.
    }

    double rxGainDb() const
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL)
            return ideal_gain_[SOAPY_SDR_RX];
        double sum = 0.0;
        for (const auto &kv : effective_[SOAPY_SDR_RX])
            sum += kv.second;
        return sum;
    }
    // The channel's unit is the signal at maximum TX gain.
    double txGainDb() const
    {
        if (cfg_.profile == AIRSIM_PROFILE_IDEAL)
            return ideal_gain_[SOAPY_SDR_TX];
        double sum = 0.0, max = 0.0;
        for (const auto &kv : effective_[SOAPY_SDR_TX])
            sum += kv.second;
        for (const auto &e : elements(SOAPY_SDR_TX))
            max += e.max;
        return sum - max;
    }
    // Caller holds mutex_.
    void applyGains()
    {
        if (tx_ && tx_->tx)
            airsim_tx_set_gain(tx_->tx, txGainDb());
        if (tx_ && tx_->txb)
            airsim_txbuf_set_gain(tx_->txb, txGainDb());
        if (rx_)
            airsim_rx_set_gain(rx_->rx, rxGainDb());
    }

    // HackRF half duplex (HackRF_Streaming.cpp activateStream): turning to
    // one direction stops the other; the board is never in both.
    int switchTo(int d)
    {
        if (mode_ == d)
            return 0;
        if (mode_ == SOAPY_SDR_TX && tx_)
            airsim_txbuf_deactivate(tx_->txb);
        mode_ = -1;
        if (d == SOAPY_SDR_TX && tx_) {
            if (airsim_txbuf_activate(tx_->txb) != 0)
                return SOAPY_SDR_STREAM_ERROR;
        } else if (d == SOAPY_SDR_RX && rx_) {
            airsim_rx_activate(rx_->rx);   // what came while not receiving is gone
        }
        mode_ = d;
        return 0;
    }

    // unplug_after: 0 while the board is there, else what its driver
    // returns from then on: HackRF, TIMEOUT after the timeout (libhackrf
    // stopped streaming on the failed USB transfer); b2x0 and ideal,
    // STREAM_ERROR at once.
    int unplugged(long timeoutUs)
    {
        if (Clock::now() < dies_)
            return 0;
        if (!dead_) {
            dead_ = true;
            al_warn("airsim %s: board unplugged (unplug_after=%g s)", cfg_.link, cfg_.unplug_after);
            if (tx_ && tx_->txb)
                airsim_txbuf_deactivate(tx_->txb);
        }
        if (!hackrf())
            return SOAPY_SDR_STREAM_ERROR;
        if (timeoutUs > 0)
            std::this_thread::sleep_for(std::chrono::microseconds(timeoutUs));
        return SOAPY_SDR_TIMEOUT;
    }

    airsim_config cfg_;
    SoapySDR::Kwargs args_;
    Clock::time_point t0_;
    Clock::time_point dies_;
    bool dead_ = false;
    long long time_base_ = 0;
    mutable std::mutex mutex_;
    Stream *tx_ = nullptr;
    Stream *rx_ = nullptr;
    int mode_ = -1;   // hackrf: SOAPY_SDR_TX, SOAPY_SDR_RX or -1 (off)
    // Indexed by direction: SOAPY_SDR_TX = 0, SOAPY_SDR_RX = 1.
    double rate_[2] = {1e6, 1e6};
    double ideal_gain_[2] = {0.0, 0.0};
    std::map<std::string, double> gains_[2];       // as set (and reported)
    std::map<std::string, double> effective_[2];   // as the board applies them
    double freq_[2] = {915e6, 915e6};
    double bw_[2] = {1e6, 1e6};
    std::string antenna_[2];
};

airsim_config parseArgs(const SoapySDR::Kwargs &args)
{
    std::vector<const char *> keys, values;
    for (const auto &kv : args) {
        keys.push_back(kv.first.c_str());
        values.push_back(kv.second.c_str());
    }
    airsim_config cfg;
    if (airsim_config_parse(&cfg, keys.data(), values.data(), keys.size()) != 0)
        throw std::runtime_error(al_error_message());
    return cfg;
}

SoapySDR::KwargsList findAirsim(const SoapySDR::Kwargs &args)
{
    // Listed only when asked for by name: a simulator should not show up
    // among a testbed's real radios.
    auto it = args.find("driver");
    if (it == args.end() || it->second != "airsim")
        return {};
    SoapySDR::Kwargs result = args;
    airsim_config cfg;
    airsim_config_default(&cfg);
    if (result.find("link") == result.end())
        result["link"] = cfg.link;
    snprintf(cfg.link, sizeof cfg.link, "%s", result["link"].c_str());
    try {
        boardCheck(cfg);   // an unplugged board is not found
    } catch (const std::runtime_error &) {
        return {};
    }
    result["label"] = "airlearn simulated channel " + result["link"];
    return {result};
}

// This module carries its own copy of airlearn's logging; its lines go to
// SoapySDR's logger so that the application's SoapySDR log level and
// handler decide what is shown.
void logToSoapy(al_log_level level, const char *line)
{
    static const SoapySDRLogLevel map[] = {SOAPY_SDR_ERROR, SOAPY_SDR_WARNING, SOAPY_SDR_INFO,
                                           SOAPY_SDR_DEBUG};
    SoapySDR::log(map[level], line);
}

SoapySDR::Device *makeAirsim(const SoapySDR::Kwargs &args)
{
    al_log_set_sink(logToSoapy);
    al_log_set_level(AL_LOG_DEBUG);
    airsim_config cfg = parseArgs(args);
    return new AirsimDevice(cfg, args, boardCheck(cfg));
}

SoapySDR::Registry registerAirsim("airsim", &findAirsim, &makeAirsim, SOAPY_SDR_ABI_VERSION);
SoapySDR::ModuleVersion registerAirsimVersion(AL_VERSION);

}  // namespace
