/* airlearn — the subcommands of the `airlearn` executable.
 *
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand's name; it returns the process exit status (sysexits.h codes:
 * EX_USAGE for bad arguments, EX_CONFIG for bad configuration,
 * EX_UNAVAILABLE for a missing device, EX_SOFTWARE for internal failures).
 * Only daemon/ turns errors into exit statuses.
 */
#ifndef AL_COMMANDS_H
#define AL_COMMANDS_H

/* One line per subcommand: name, function, summary for --help. */
#define AL_COMMAND_LIST(X)                                                   \
    X("tx", cmd_tx, "transmitter daemon (tx --help lists the configuration)") \
    X("rx", cmd_rx, "receiver daemon (rx --help)") \
    X("linkcheck", cmd_linkcheck, "RX side: levels, offsets, frames and advice (linkcheck --help)") \
    X("loopback", cmd_loopback, "the demo: tx and rx over a simulated radio link (loopback --help)") \
    X("status", cmd_status, "JSON status of a running daemon (status --config F)") \
    X("sim", cmd_sim, "symbol-level training and SER sweeps, both methods (sim --help)") \
    X("keygen", cmd_keygen, "write a CURVE key pair for the feedback link (keygen --help)") \
    X("bench", cmd_bench, "run benchmarks, print JSON lines (bench --help)")

#define AL_COMMAND_DECLARE(name, fn, summary) int fn(int argc, char **argv);
AL_COMMAND_LIST(AL_COMMAND_DECLARE)
#undef AL_COMMAND_DECLARE

#endif
