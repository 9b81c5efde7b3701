/* fuzz-rtmp-chunk.c — libFuzzer target for the RTMP handshake and chunk reader
 *
 * The first input byte sets how the rest is cut into reads (as the network
 * would). The rest goes through the handshake then the chunk reader, as in a
 * session, and also straight into a second chunk reader so that chunk parsing
 * is reached without a handshake. Command messages are decoded as AMF0.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <stdint.h>

#include "veza-amf0.h"
#include "veza-rtmp-chunk.h"
#include "veza-rtmp-handshake.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
decode_commands (GPtrArray *messages)
{
  for (guint i = 0; i < messages->len; i++)
    {
      VezaRtmpMessage *m = messages->pdata[i];
      gsize len;
      const guint8 *p = g_bytes_get_data (m->payload, &len);
      g_assert (len <= 64 * 1024);
      if (m->type == VEZA_RTMP_MSG_COMMAND_AMF0 || m->type == VEZA_RTMP_MSG_DATA_AMF0)
        {
          GPtrArray *values = veza_amf0_decode_all (p, len, NULL);
          g_clear_pointer (&values, g_ptr_array_unref);
        }
    }
  g_ptr_array_set_size (messages, 0);
}

/* Feeds @data in pieces of @step bytes; stops at the first error. */
static gboolean
feed_reader (VezaRtmpChunkReader *reader, const guint8 *data, gsize size, gsize step,
             GPtrArray *messages)
{
  for (gsize pos = 0; pos < size; pos += step)
    {
      g_autoptr (GError) error = NULL;
      if (!veza_rtmp_chunk_reader_feed (reader, data + pos, MIN (step, size - pos), messages,
                                        &error))
        {
          g_assert (error != NULL);
          return FALSE;
        }
      decode_commands (messages);
    }
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) messages = NULL;
  gsize step;

  if (size < 1)
    return 0;
  step = data[0] ? data[0] : size;
  data++;
  size--;
  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_rtmp_message_free);

  /* As a session does: handshake, then the chunk stream. */
  {
    g_autoptr (VezaRtmpHandshake) hs = veza_rtmp_handshake_new ();
    g_autoptr (VezaRtmpChunkReader) reader = veza_rtmp_chunk_reader_new (64 * 1024, 8);
    g_autoptr (GByteArray) out = g_byte_array_new ();
    gsize pos = 0;

    while (pos < size)
      {
        g_autoptr (GError) error = NULL;
        gsize n = MIN (step, size - pos), used = 0;

        if (!veza_rtmp_handshake_is_done (hs))
          {
            if (!veza_rtmp_handshake_feed (hs, data + pos, n, &used, out, &error))
              break;
            g_assert (used <= n);
            if (!veza_rtmp_handshake_is_done (hs))
              g_assert (used == n);
            pos += used;
            continue;
          }
        if (!feed_reader (reader, data + pos, n, n, messages))
          break;
        pos += n;
      }
    g_assert (out->len == 0 || out->len == 1 + 2 * VEZA_RTMP_HANDSHAKE_SIZE);
  }

  /* Chunks alone. */
  {
    g_autoptr (VezaRtmpChunkReader) reader = veza_rtmp_chunk_reader_new (64 * 1024, 8);
    feed_reader (reader, data, size, step, messages);
  }
  return 0;
}
