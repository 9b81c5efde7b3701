/* veza-flv.c: FLV tags in and out (bounded, GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An FLV stream is a 9-byte header, then PreviousTagSize0 (4 bytes), then
 * tags: an 11-byte header (type, 24-bit size, 24-bit timestamp + 8-bit
 * extension, 24-bit stream id), the body, and the 4-byte size of that tag.
 * A body is at most 2^24 - 1 bytes, which bounds the parser's buffer.
 */

#include "veza-flv.h"

#include <string.h>

#define FLV_HEADER_SIZE 9
#define FLV_TAG_HEADER_SIZE 11
#define FLV_MAX_HEADER_OFFSET 1024

struct _VezaFlvParser
{
  GByteArray *buffer;
  gboolean header_done;
  gsize skip;                   /* bytes of header extension still to drop */
};

VezaFlvTag *
veza_flv_tag_new (guint8 type, guint32 timestamp, GBytes *payload)
{
  VezaFlvTag *tag = g_new0 (VezaFlvTag, 1);

  tag->type = type;
  tag->timestamp = timestamp;
  tag->payload = g_bytes_ref (payload);
  return tag;
}

void
veza_flv_tag_free (VezaFlvTag *tag)
{
  if (tag == NULL)
    return;
  g_bytes_unref (tag->payload);
  g_free (tag);
}

VezaFlvParser *
veza_flv_parser_new (void)
{
  VezaFlvParser *parser = g_new0 (VezaFlvParser, 1);

  parser->buffer = g_byte_array_new ();
  return parser;
}

void
veza_flv_parser_free (VezaFlvParser *parser)
{
  if (parser == NULL)
    return;
  g_byte_array_unref (parser->buffer);
  g_free (parser);
}

static guint32
read_u24 (const guint8 *p)
{
  return ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
}

/**
 * veza_flv_parser_feed:
 * @parser: a #VezaFlvParser
 * @data: (array length=len): the next bytes of the stream
 * @len: their number
 * @tags: (element-type VezaFlvTag): where complete tags are appended; its
 *   free function should be veza_flv_tag_free()
 * @error: return location for a #GError
 *
 * Returns: %FALSE on malformed input (the parser must then be dropped)
 */
gboolean
veza_flv_parser_feed (VezaFlvParser *parser,
                      const guint8  *data,
                      gsize          len,
                      GPtrArray     *tags,
                      GError       **error)
{
  GByteArray *buf = parser->buffer;
  gsize pos = 0;

  g_byte_array_append (buf, data, len);

  if (!parser->header_done)
    {
      guint32 offset;

      if (buf->len < FLV_HEADER_SIZE)
        return TRUE;
      if (memcmp (buf->data, "FLV", 3) != 0 || buf->data[3] != 1)
        {
          g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_INVALID_DATA,
                       "Not an FLV stream");
          return FALSE;
        }
      offset = ((guint32) buf->data[5] << 24) | read_u24 (buf->data + 6);
      if (offset < FLV_HEADER_SIZE || offset > FLV_MAX_HEADER_OFFSET)
        {
          g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_INVALID_DATA,
                       "Invalid FLV header size %u", offset);
          return FALSE;
        }
      parser->header_done = TRUE;
      parser->skip = offset + 4;  /* header and PreviousTagSize0 */
    }

  if (parser->skip > 0)
    {
      gsize n = MIN (parser->skip, buf->len);
      parser->skip -= n;
      pos = n;
    }

  while (buf->len - pos >= FLV_TAG_HEADER_SIZE)
    {
      const guint8 *p = buf->data + pos;
      guint8 type = p[0] & 0x1f;
      guint32 size = read_u24 (p + 1);
      guint32 timestamp = read_u24 (p + 4) | ((guint32) p[7] << 24);
      g_autoptr (GBytes) payload = NULL;

      if ((p[0] & 0xc0) != 0 ||
          (type != VEZA_FLV_TAG_AUDIO && type != VEZA_FLV_TAG_VIDEO && type != VEZA_FLV_TAG_SCRIPT))
        {
          g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_INVALID_DATA,
                       "Invalid FLV tag type %u", p[0]);
          return FALSE;
        }
      if (buf->len - pos < (gsize) FLV_TAG_HEADER_SIZE + size + 4)
        break;

      payload = g_bytes_new (p + FLV_TAG_HEADER_SIZE, size);
      g_ptr_array_add (tags, veza_flv_tag_new (type, timestamp, payload));
      pos += FLV_TAG_HEADER_SIZE + size + 4;
    }

  g_byte_array_remove_range (buf, 0, pos);
  return TRUE;
}

/**
 * veza_flv_header_new:
 *
 * Returns: (transfer full): an FLV file header and PreviousTagSize0
 */
GBytes *
veza_flv_header_new (gboolean has_audio, gboolean has_video)
{
  guint8 header[FLV_HEADER_SIZE + 4] = { 'F', 'L', 'V', 1, 0, 0, 0, 0, FLV_HEADER_SIZE, 0, 0, 0, 0 };

  header[4] = (has_audio ? 0x04 : 0) | (has_video ? 0x01 : 0);
  return g_bytes_new (header, sizeof header);
}

/**
 * veza_flv_write_tag:
 * @out: room for @payload_len + %VEZA_FLV_TAG_OVERHEAD bytes
 *
 * Writes one complete tag (header, @payload, PreviousTagSize) to @out.
 * @payload_len must be below 2^24.
 *
 * Returns: the number of bytes written
 */
gsize
veza_flv_write_tag (guint8       *out,
                    guint8        type,
                    guint32       timestamp,
                    const guint8 *payload,
                    gsize         payload_len)
{
  guint32 total = FLV_TAG_HEADER_SIZE + (guint32) payload_len;
  guint8 *trailer = out + FLV_TAG_HEADER_SIZE + payload_len;

  g_return_val_if_fail (payload_len < (1 << 24), 0);

  out[0] = type;
  out[1] = (payload_len >> 16) & 0xff;
  out[2] = (payload_len >> 8) & 0xff;
  out[3] = payload_len & 0xff;
  out[4] = (timestamp >> 16) & 0xff;
  out[5] = (timestamp >> 8) & 0xff;
  out[6] = timestamp & 0xff;
  out[7] = (timestamp >> 24) & 0xff;
  out[8] = out[9] = out[10] = 0;
  if (payload_len > 0)
    memcpy (out + FLV_TAG_HEADER_SIZE, payload, payload_len);
  trailer[0] = (total >> 24) & 0xff;
  trailer[1] = (total >> 16) & 0xff;
  trailer[2] = (total >> 8) & 0xff;
  trailer[3] = total & 0xff;
  return payload_len + VEZA_FLV_TAG_OVERHEAD;
}

/**
 * veza_flv_append_tag:
 *
 * Appends one complete tag (header, @payload, PreviousTagSize) to @out.
 * @payload_len must be below 2^24.
 */
void
veza_flv_append_tag (GByteArray   *out,
                     guint8        type,
                     guint32       timestamp,
                     const guint8 *payload,
                     gsize         payload_len)
{
  guint old_len = out->len;

  g_return_if_fail (payload_len < (1 << 24));

  g_byte_array_set_size (out, old_len + payload_len + VEZA_FLV_TAG_OVERHEAD);
  veza_flv_write_tag (out->data + old_len, type, timestamp, payload, payload_len);
}
