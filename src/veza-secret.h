/* veza-secret.h — stream keys and tokens from the kernel CSPRNG
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean veza_secret_init          (void);
/* A new bearer token: 256 bits, base64url without padding */
char    *veza_secret_new_token     (void);
/* A new stream key: "live_" + 160 bits in lowercase hex */
char    *veza_secret_new_stream_key (void);
/* SHA-256 of @secret in lowercase hex: what the database stores for tokens */
char    *veza_secret_hash          (const char *secret);
/* Shape check only (length and alphabet), to refuse junk before any lookup */
gboolean veza_secret_is_token_shaped (const char *text);

G_END_DECLS
