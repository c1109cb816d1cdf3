/* airlearn — CURVE key files for the feedback link.
 *
 * A key pair is two text files holding one Z85 key (40 characters) each:
 * NAME.key (secret, mode 0600) and NAME.pub (public). The TX has a server
 * pair; each RX has its own pair; the TX allows the RX public keys found
 * in one directory. */
#ifndef FB_KEYS_H
#define FB_KEYS_H

#include <stdint.h>

enum { FB_KEY_Z85 = 40, FB_MAX_ALLOWED_KEYS = 256 };

/* Writes DIR/NAME.key and DIR/NAME.pub from zmq_curve_keypair(). Refuses
 * to overwrite an existing file unless force. */
int fb_keygen(const char *dir, const char *name, int force);

/* Reads one Z85 key from path into z85 [size: FB_KEY_Z85 + 1], checking
 * that it decodes. */
int fb_key_read(const char *path, char *z85);

/* The public key of a Z85 secret key, Z85 [size: FB_KEY_Z85 + 1]. */
int fb_key_public(const char *secret_z85, char *public_z85);

/* Loads every DIR/ *.pub as a 32-byte key into keys [size: cap];
 * *n gets the count. An unreadable or malformed file is an error. */
int fb_keys_load_dir(const char *dir, uint8_t (*keys)[32], unsigned cap, unsigned *n);

#endif
