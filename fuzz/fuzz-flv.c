/* fuzz-flv.c — libFuzzer target for the FLV tag parser (pull mode reads an
 * upstream server's bytes through it)
 *
 * The input is fed in two pieces split at a point the input chooses, so
 * that tags and the header crossing a read boundary are exercised. Every
 * tag that comes out is written back with veza_flv_append_tag() and must
 * parse again to the same tag.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-flv.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* The media library defines its error domain next to the HLS writer, which
 * this target does not link. */
G_DEFINE_QUARK (veza-media-error-quark, veza_media_error)

static void
check_round_trip (GPtrArray *tags)
{
  g_autoptr(VezaFlvParser) again = veza_flv_parser_new ();
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_flv_tag_free);
  g_autoptr(GBytes) header = veza_flv_header_new (TRUE, TRUE);
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  gsize header_len;
  const guint8 *header_data = g_bytes_get_data (header, &header_len);

  g_byte_array_append (bytes, header_data, header_len);
  for (guint i = 0; i < tags->len; i++)
    {
      VezaFlvTag *tag = g_ptr_array_index (tags, i);
      gsize len;
      const guint8 *payload = g_bytes_get_data (tag->payload, &len);

      veza_flv_append_tag (bytes, tag->type, tag->timestamp, payload, len);
    }

  if (!veza_flv_parser_feed (again, bytes->data, bytes->len, out, NULL))
    g_error ("tags written by veza_flv_append_tag did not parse again");
  if (out->len != tags->len)
    g_error ("round trip gave %u tags instead of %u", out->len, tags->len);
  for (guint i = 0; i < tags->len; i++)
    {
      VezaFlvTag *a = g_ptr_array_index (tags, i);
      VezaFlvTag *b = g_ptr_array_index (out, i);

      if (a->type != b->type || a->timestamp != b->timestamp ||
          !g_bytes_equal (a->payload, b->payload))
        g_error ("round trip changed tag %u", i);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(VezaFlvParser) parser = veza_flv_parser_new ();
  g_autoptr(GPtrArray) tags = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_flv_tag_free);
  gsize split = size > 0 ? data[0] % (size + 1) : 0;
  gboolean ok;

  ok = veza_flv_parser_feed (parser, data, split, tags, NULL) &&
       veza_flv_parser_feed (parser, data + split, size - split, tags, NULL);
  if (ok)
    check_round_trip (tags);
  return 0;
}
