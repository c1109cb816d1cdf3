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
#include <mutex>
#include <stdexcept>

namespace {

struct Stream {
    int direction;
    airsim_format format;
    airsim_tx_t *tx = nullptr;
    airsim_rx_t *rx = nullptr;
};

class AirsimDevice : public SoapySDR::Device {
  public:
    AirsimDevice(const airsim_config &cfg, const SoapySDR::Kwargs &args)
        : cfg_(cfg), args_(args), t0_(std::chrono::steady_clock::now())
    {
    }

    ~AirsimDevice() override
    {
        if (tx_)
            closeStream(reinterpret_cast<SoapySDR::Stream *>(tx_));
        if (rx_)
            closeStream(reinterpret_cast<SoapySDR::Stream *>(rx_));
    }

    std::string getDriverKey() const override { return "airsim"; }
    std::string getHardwareKey() const override { return "airsim"; }

    SoapySDR::Kwargs getHardwareInfo() const override
    {
        return {{"origin", "airlearn"}, {"version", AL_VERSION}, {"link", cfg_.link},
                {"clock", cfg_.clock == AIRSIM_CLOCK_FAST ? "fast" : "realtime"}};
    }

    size_t getNumChannels(const int) const override { return 1; }
    bool getFullDuplex(const int, const size_t) const override { return true; }

    // ---- streams ----

    std::vector<std::string> getStreamFormats(const int, const size_t) const override
    {
        return {SOAPY_SDR_CF32, SOAPY_SDR_CS16};
    }

    std::string getNativeStreamFormat(const int, const size_t, double &fullScale) const override
    {
        fullScale = 1.0;
        return SOAPY_SDR_CF32;
    }

    SoapySDR::Stream *setupStream(const int direction, const std::string &format,
                                  const std::vector<size_t> &channels,
                                  const SoapySDR::Kwargs &) override
    {
        if (channels.size() > 1 || (channels.size() == 1 && channels[0] != 0))
            throw std::runtime_error("airsim has one channel per direction (channel 0)");
        airsim_format fmt;
        if (format == SOAPY_SDR_CF32)
            fmt = AIRSIM_CF32;
        else if (format == SOAPY_SDR_CS16)
            fmt = AIRSIM_CS16;
        else
            throw std::runtime_error("airsim streams CF32 or CS16, not " + format);
        std::lock_guard<std::mutex> lock(mutex_);
        Stream *&slot = direction == SOAPY_SDR_TX ? tx_ : rx_;
        if (slot)
            throw std::runtime_error("airsim: this direction already has a stream");
        auto *s = new Stream{direction, fmt};
        if (direction == SOAPY_SDR_TX) {
            s->tx = airsim_tx_create(&cfg_, rate_[SOAPY_SDR_TX]);
            if (s->tx)
                airsim_tx_set_gain(s->tx, gain_[SOAPY_SDR_TX]);
        } else {
            s->rx = airsim_rx_create(&cfg_, rate_[SOAPY_SDR_RX]);
            if (s->rx)
                airsim_rx_set_gain(s->rx, gain_[SOAPY_SDR_RX]);
        }
        if (!s->tx && !s->rx) {
            std::string why = al_error_message();
            delete s;
            throw std::runtime_error(why);
        }
        // The oscillator's carrier offset follows the tuned frequency.
        if (s->tx)
            airsim_tx_set_frequency(s->tx, freq_[SOAPY_SDR_TX]);
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
        airsim_tx_destroy(&s->tx);
        airsim_rx_destroy(&s->rx);
        delete s;
    }

    size_t getStreamMTU(SoapySDR::Stream *) const override { return AIRSIM_WIRE_MAX_SAMPLES; }

    int activateStream(SoapySDR::Stream *stream, const int, const long long, const size_t) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (s->tx)
            airsim_tx_activate(s->tx);
        else
            airsim_rx_activate(s->rx);
        return 0;
    }

    int deactivateStream(SoapySDR::Stream *, const int, const long long) override { return 0; }

    int readStream(SoapySDR::Stream *stream, void *const *buffs, const size_t numElems,
                   int &flags, long long &timeNs, const long timeoutUs) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (!s->rx)
            return SOAPY_SDR_NOT_SUPPORTED;
        int64_t ticks = 0;
        int n = airsim_rx_read(s->rx, buffs[0], s->format, clamp(numElems), &ticks, timeoutUs);
        flags = 0;
        if (n > 0) {
            flags = SOAPY_SDR_HAS_TIME;
            timeNs = SoapySDR::ticksToTimeNs(ticks, rate_[SOAPY_SDR_RX]);
        }
        return n;
    }

    int writeStream(SoapySDR::Stream *stream, const void *const *buffs, const size_t numElems,
                    int &flags, const long long timeNs, const long timeoutUs) override
    {
        auto *s = reinterpret_cast<Stream *>(stream);
        if (!s->tx)
            return SOAPY_SDR_NOT_SUPPORTED;
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
        if (!s->tx)
            return SOAPY_SDR_NOT_SUPPORTED;
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
    // gains and rate are used; the simulated channel has no RF front end.

    std::vector<std::string> listAntennas(const int direction, const size_t) const override
    {
        return {direction == SOAPY_SDR_TX ? "TX" : "RX"};
    }
    void setAntenna(const int direction, const size_t, const std::string &name) override
    {
        if (name != listAntennas(direction, 0)[0])
            throw std::runtime_error("airsim has no antenna " + name);
    }
    std::string getAntenna(const int direction, const size_t) const override
    {
        return listAntennas(direction, 0)[0];
    }

    std::vector<std::string> listGains(const int, const size_t) const override { return {"PATH"}; }
    SoapySDR::Range getGainRange(const int direction, const size_t) const override
    {
        // TX: attenuation below full scale; RX: amplification of the stream.
        return direction == SOAPY_SDR_TX ? SoapySDR::Range(-60.0, 0.0, 0.0)
                                         : SoapySDR::Range(0.0, 60.0, 0.0);
    }
    SoapySDR::Range getGainRange(const int direction, const size_t ch, const std::string &) const override
    {
        return getGainRange(direction, ch);
    }
    void setGain(const int direction, const size_t, const double value) override
    {
        SoapySDR::Range r = getGainRange(direction, 0);
        double g = value < r.minimum() ? r.minimum() : value > r.maximum() ? r.maximum() : value;
        std::lock_guard<std::mutex> lock(mutex_);
        gain_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX] = g;
        if (direction == SOAPY_SDR_TX && tx_)
            airsim_tx_set_gain(tx_->tx, g);
        if (direction == SOAPY_SDR_RX && rx_)
            airsim_rx_set_gain(rx_->rx, g);
    }
    void setGain(const int direction, const size_t ch, const std::string &, const double value) override
    {
        setGain(direction, ch, value);
    }
    double getGain(const int direction, const size_t) const override
    {
        return gain_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX];
    }
    double getGain(const int direction, const size_t ch, const std::string &) const override
    {
        return getGain(direction, ch);
    }

    std::vector<std::string> listFrequencies(const int, const size_t) const override { return {"RF"}; }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t) const override
    {
        return {SoapySDR::Range(1e6, 6e9)};
    }
    SoapySDR::RangeList getFrequencyRange(const int d, const size_t c, const std::string &) const override
    {
        return getFrequencyRange(d, c);
    }
    void setFrequency(const int direction, const size_t, const double f, const SoapySDR::Kwargs &) override
    {
        std::lock_guard<std::mutex> lock(mutex_);
        int rc = 0;
        if (direction == SOAPY_SDR_TX && tx_)
            rc = airsim_tx_set_frequency(tx_->tx, f);
        else if (direction != SOAPY_SDR_TX && rx_)
            rc = airsim_rx_set_frequency(rx_->rx, f);
        else if (!(f >= 0.0 && f <= AIRSIM_FREQ_MAX))
            rc = AL_FAIL(AL_EINVAL, "airsim frequency %g Hz out of range", f);
        if (rc != 0)
            throw std::runtime_error(al_error_message());
        freq_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX] = f;
    }
    void setFrequency(const int d, const size_t c, const std::string &, const double f,
                      const SoapySDR::Kwargs &a) override
    {
        setFrequency(d, c, f, a);
    }
    double getFrequency(const int direction, const size_t) const override
    {
        return freq_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX];
    }
    double getFrequency(const int d, const size_t c, const std::string &) const override
    {
        return getFrequency(d, c);
    }

    SoapySDR::RangeList getSampleRateRange(const int, const size_t) const override
    {
        return {SoapySDR::Range(1e3, 100e6)};
    }
    std::vector<double> listSampleRates(const int, const size_t) const override
    {
        return {250e3, 1e6, 2e6, 4e6, 5e6, 8e6, 10e6, 20e6};
    }
    void setSampleRate(const int direction, const size_t, const double rate) override
    {
        if (!(rate >= 1e3 && rate <= 100e6))
            throw std::runtime_error("airsim sample rate must be within 1 kHz .. 100 MHz");
        std::lock_guard<std::mutex> lock(mutex_);
        if ((direction == SOAPY_SDR_TX ? tx_ : rx_) != nullptr)
            throw std::runtime_error("airsim: set the sample rate before setupStream");
        rate_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX] = rate;
    }
    double getSampleRate(const int direction, const size_t) const override
    {
        return rate_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX];
    }

    SoapySDR::RangeList getBandwidthRange(const int, const size_t) const override
    {
        return {SoapySDR::Range(1e3, 100e6)};
    }
    void setBandwidth(const int direction, const size_t, const double bw) override
    {
        bw_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX] = bw;
    }
    double getBandwidth(const int direction, const size_t) const override
    {
        return bw_[direction == SOAPY_SDR_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX];
    }

    // ---- time ----

    bool hasHardwareTime(const std::string &what) const override { return what.empty(); }
    long long getHardwareTime(const std::string &) const override
    {
        if (rx_)
            return SoapySDR::ticksToTimeNs(airsim_rx_time(rx_->rx), rate_[SOAPY_SDR_RX]);
        if (tx_)
            return SoapySDR::ticksToTimeNs(airsim_tx_time(tx_->tx), rate_[SOAPY_SDR_TX]);
        auto d = std::chrono::steady_clock::now() - t0_;
        return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() + time_base_;
    }
    void setHardwareTime(const long long timeNs, const std::string &) override
    {
        if (rx_)
            airsim_rx_set_time(rx_->rx, SoapySDR::timeNsToTicks(timeNs, rate_[SOAPY_SDR_RX]));
        if (tx_)
            airsim_tx_set_time(tx_->tx, SoapySDR::timeNsToTicks(timeNs, rate_[SOAPY_SDR_TX]));
        auto d = std::chrono::steady_clock::now() - t0_;
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
        bool up = (tx_ && airsim_tx_link_up(tx_->tx)) || (rx_ && airsim_rx_link_up(rx_->rx));
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
        for (const opt_desc *d = airsim_config_table; d->name; d++)
            if (key == d->name)
                return d->def;
        throw std::runtime_error("airsim has no setting " + key);
    }

  private:
    static unsigned clamp(size_t n)
    {
        const size_t mtu = AIRSIM_WIRE_MAX_SAMPLES;
        return static_cast<unsigned>(n > mtu ? mtu : n);
    }

    airsim_config cfg_;
    SoapySDR::Kwargs args_;
    std::chrono::steady_clock::time_point t0_;
    long long time_base_ = 0;
    mutable std::mutex mutex_;
    Stream *tx_ = nullptr;
    Stream *rx_ = nullptr;
    // Indexed by direction: SOAPY_SDR_TX = 0, SOAPY_SDR_RX = 1.
    double rate_[2] = {1e6, 1e6};
    double gain_[2] = {0.0, 0.0};
    double freq_[2] = {915e6, 915e6};
    double bw_[2] = {1e6, 1e6};
};

airsim_config parseArgs(const SoapySDR::Kwargs &args)
{
    airsim_config cfg;
    airsim_config_default(&cfg);
    for (const auto &kv : args)
        if (airsim_config_set(&cfg, kv.first.c_str(), kv.second.c_str()) != 0)
            throw std::runtime_error(al_error_message());
    if (airsim_config_finish(&cfg) != 0)
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
    return new AirsimDevice(parseArgs(args), args);
}

SoapySDR::Registry registerAirsim("airsim", &findAirsim, &makeAirsim, SOAPY_SDR_ABI_VERSION);
SoapySDR::ModuleVersion registerAirsimVersion(AL_VERSION);

}  // namespace
