/* airlearn — a SoapySDR device string reached through SoapyRemote's
 * remote-access wrapper (driver=remote): the same device, made by a
 * SoapySDRServer at a URL instead of in this process.
 *
 * Pure string work on caller-owned buffers; no state, any thread. */
#ifndef REMOTE_DEVICE_H
#define REMOTE_DEVICE_H

#include <stddef.h>

/* Rewrites `device` in place: its driver=X becomes remote:driver=X after
 * driver=remote,remote=URL, every other key kept as it was (the server's
 * driver gets them: SoapyRemote forwards keys without the remote: prefix,
 * client/Registration.cpp translateArgs). 0, or AL_EINVAL with a message
 * (no driver key, a remote key already there, a URL with ',' '=' or
 * blanks, or the result longer than size - 1: `device` is then left
 * unchanged). */
int remote_device_wrap(char *device, size_t size, const char *url);

#endif
