/* veza-secret.c — stream keys and tokens from the kernel CSPRNG
 *
 * libsodium's randombytes_buf() reads getrandom(2); sodium_memcmp() compares
 * in constant time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-secret.h"
#include "veza-plugin.h"

#include <sodium.h>
#include <string.h>

gboolean
veza_secret_init (void)
{
  return sodium_init () >= 0;
}

char *
veza_secret_new_token (void)
{
  guint8 raw[32];
  char out[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (out, sizeof out, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (raw, sizeof raw);
  return g_strdup (out);
}

char *
veza_secret_new_stream_key (void)
{
  guint8 raw[20];
  char hex[sizeof raw * 2 + 1];
  char *key;

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
  key = g_strconcat ("live_", hex, NULL);
  sodium_memzero (raw, sizeof raw);
  sodium_memzero (hex, sizeof hex);
  return key;
}

char *
veza_secret_hash (const char *secret)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, secret, -1);
}

gboolean
veza_secret_is_token_shaped (const char *text)
{
  gsize len;

  if (text == NULL)
    return FALSE;
  len = strlen (text);
  if (len < 16 || len > 128)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (text[i]) && text[i] != '-' && text[i] != '_')
      return FALSE;
  return TRUE;
}

gboolean
veza_secret_equal (const char *a,
                   const char *b)
{
  gsize la, lb;

  if (a == NULL || b == NULL)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  /* The lengths of our secrets are not secret; the contents are. */
  if (la != lb)
    return FALSE;
  return sodium_memcmp (a, b, la) == 0;
}
