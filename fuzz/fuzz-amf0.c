/* fuzz-amf0.c — libFuzzer target for the AMF0 decoder
 *
 * Any input must decode to values or give an error. Whatever decodes must
 * encode and decode again to the same bytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "veza-amf0.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) values = veza_amf0_decode_all (data, size, &error);
  gsize consumed = 0;

  g_assert ((values == NULL) == (error != NULL));
  if (values)
    {
      g_autoptr (GByteArray) once = g_byte_array_new ();
      g_autoptr (GByteArray) twice = g_byte_array_new ();

      for (guint i = 0; i < values->len; i++)
        veza_amf0_encode (once, values->pdata[i]);
      g_autoptr (GPtrArray) again = veza_amf0_decode_all (once->data, once->len, NULL);
      g_assert (again != NULL && again->len == values->len);
      for (guint i = 0; i < again->len; i++)
        veza_amf0_encode (twice, again->pdata[i]);
      g_assert (once->len == twice->len && memcmp (once->data, twice->data, once->len) == 0);
    }

  g_autoptr (VezaAmf0Value) one = veza_amf0_decode (data, size, &consumed, NULL);
  g_assert (one == NULL || consumed <= size);
  return 0;
}
