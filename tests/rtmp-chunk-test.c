/* rtmp-chunk-test.c — RTMP chunk stream reader and writer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "veza-rtmp-chunk.h"

/* ---------------------------------------------------------------------- */
/* Hand-made chunks                                                       */
/* ---------------------------------------------------------------------- */

static void
put_basic (GByteArray *b, guint fmt, guint csid)
{
  guint8 h[3];
  if (csid < 64)
    {
      h[0] = (fmt << 6) | csid;
      g_byte_array_append (b, h, 1);
    }
  else if (csid < 320)
    {
      h[0] = fmt << 6;
      h[1] = csid - 64;
      g_byte_array_append (b, h, 2);
    }
  else
    {
      h[0] = (fmt << 6) | 1;
      h[1] = (csid - 64) & 0xff;
      h[2] = (csid - 64) >> 8;
      g_byte_array_append (b, h, 3);
    }
}

static void
put_be (GByteArray *b, guint32 v, int n)
{
  for (int i = n - 1; i >= 0; i--)
    {
      guint8 c = v >> (8 * i);
      g_byte_array_append (b, &c, 1);
    }
}

/* A chunk header; @ts >= 0xFFFFFF is written in the extended field. */
static void
put_header (GByteArray *b, guint fmt, guint csid, guint32 ts, guint32 len, guint8 type,
            guint32 sid)
{
  gboolean ext = ts >= 0xFFFFFF;
  put_basic (b, fmt, csid);
  if (fmt <= 2)
    put_be (b, ext ? 0xFFFFFF : ts, 3);
  if (fmt <= 1)
    {
      put_be (b, len, 3);
      g_byte_array_append (b, &type, 1);
    }
  if (fmt == 0)
    {
      guint8 s[4] = { sid, sid >> 8, sid >> 16, sid >> 24 };
      g_byte_array_append (b, s, 4);
    }
  if (ext && fmt <= 2)
    put_be (b, ts, 4);
}

static void
put_payload (GByteArray *b, guint8 seed, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = seed + i;
      g_byte_array_append (b, &c, 1);
    }
}

static gboolean
payload_is (const VezaRtmpMessage *m, guint8 seed, gsize len)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (m->payload, &size);
  if (size != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (p[i] != (guint8) (seed + i))
      return FALSE;
  return TRUE;
}

static GPtrArray *
new_messages (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) veza_rtmp_message_free);
}

static GPtrArray *
feed_ok (VezaRtmpChunkReader *r, GByteArray *b)
{
  GPtrArray *msgs = new_messages ();
  g_autoptr (GError) error = NULL;
  g_assert_true (veza_rtmp_chunk_reader_feed (r, b->data, b->len, msgs, &error));
  g_assert_no_error (error);
  return msgs;
}

static void
feed_fails (VezaRtmpChunkReader *r, GByteArray *b, int code)
{
  g_autoptr (GPtrArray) msgs = new_messages ();
  g_autoptr (GError) error = NULL;
  g_assert_false (veza_rtmp_chunk_reader_feed (r, b->data, b->len, msgs, &error));
  g_assert_error (error, VEZA_RTMP_ERROR, code);
  g_clear_error (&error);
  /* A failed reader refuses anything more. */
  g_assert_false (veza_rtmp_chunk_reader_feed (r, b->data, 1, msgs, &error));
  g_assert_nonnull (error);
}

#define MSG(a, i) ((VezaRtmpMessage *) g_ptr_array_index ((a), (i)))

/* ---------------------------------------------------------------------- */

static void
test_header_types (void)
{
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();

  put_header (b, 0, 4, 1000, 4, 9, 1);
  put_payload (b, 1, 4);
  put_header (b, 1, 4, 20, 6, 8, 0);
  put_payload (b, 2, 6);
  put_header (b, 2, 4, 30, 0, 0, 0);
  put_payload (b, 3, 6);
  put_header (b, 3, 4, 0, 0, 0, 0);
  put_payload (b, 4, 6);

  g_autoptr (GPtrArray) m = feed_ok (r, b);
  g_assert_cmpuint (m->len, ==, 4);
  g_assert_cmpuint (MSG (m, 0)->timestamp, ==, 1000);
  g_assert_cmpuint (MSG (m, 0)->type, ==, 9);
  g_assert_cmpuint (MSG (m, 0)->stream_id, ==, 1);
  g_assert_cmpuint (MSG (m, 0)->cstream_id, ==, 4);
  g_assert_true (payload_is (MSG (m, 0), 1, 4));
  g_assert_cmpuint (MSG (m, 1)->timestamp, ==, 1020);
  g_assert_cmpuint (MSG (m, 1)->type, ==, 8);
  g_assert_cmpuint (MSG (m, 1)->stream_id, ==, 1);
  g_assert_true (payload_is (MSG (m, 1), 2, 6));
  g_assert_cmpuint (MSG (m, 2)->timestamp, ==, 1050);
  g_assert_true (payload_is (MSG (m, 2), 3, 6));
  g_assert_cmpuint (MSG (m, 3)->timestamp, ==, 1080);
  g_assert_cmpuint (MSG (m, 3)->type, ==, 8);
  g_assert_true (payload_is (MSG (m, 3), 4, 6));
}

static void
test_multi_chunk (void)
{
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) p = g_byte_array_new ();

  put_payload (p, 7, 300);
  put_header (b, 0, 6, 5, 300, 9, 1);
  g_byte_array_append (b, p->data, 128);
  put_header (b, 3, 6, 0, 0, 0, 0);
  g_byte_array_append (b, p->data + 128, 128);
  put_header (b, 3, 6, 0, 0, 0, 0);
  g_byte_array_append (b, p->data + 256, 44);

  g_autoptr (GPtrArray) m = feed_ok (r, b);
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_true (payload_is (MSG (m, 0), 7, 300));
  g_assert_cmpuint (MSG (m, 0)->timestamp, ==, 5);
}

static void
extended_case (gboolean repeat_on_continuation)
{
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) p = g_byte_array_new ();
  const guint32 ts = 0x01000000;

  put_payload (p, 9, 300);
  put_header (b, 0, 5, ts, 300, 9, 1);
  g_byte_array_append (b, p->data, 128);
  for (int i = 1; i <= 2; i++)
    {
      put_header (b, 3, 5, 0, 0, 0, 0);
      if (repeat_on_continuation)
        put_be (b, ts, 4);
      g_byte_array_append (b, p->data + 128 * i, i == 1 ? 128 : 44);
    }
  /* A new message with fmt 3: the extended field comes again. */
  put_header (b, 3, 5, 0, 0, 0, 0);
  put_be (b, ts, 4);
  g_byte_array_append (b, p->data, 128);
  put_header (b, 3, 5, 0, 0, 0, 0);
  if (repeat_on_continuation)
    put_be (b, ts, 4);
  g_byte_array_append (b, p->data + 128, 128);
  put_header (b, 3, 5, 0, 0, 0, 0);
  if (repeat_on_continuation)
    put_be (b, ts, 4);
  g_byte_array_append (b, p->data + 256, 44);
  /* A fmt 1 header with an extended delta. */
  put_header (b, 1, 5, 0x01000001, 3, 8, 0);
  put_payload (b, 1, 3);

  g_autoptr (GPtrArray) m = feed_ok (r, b);
  g_assert_cmpuint (m->len, ==, 3);
  g_assert_cmpuint (MSG (m, 0)->timestamp, ==, ts);
  g_assert_true (payload_is (MSG (m, 0), 9, 300));
  /* fmt 3 after fmt 0 repeats the fmt 0 field as a delta, as clients do. */
  g_assert_cmpuint (MSG (m, 1)->timestamp, ==, 2 * ts);
  g_assert_true (payload_is (MSG (m, 1), 9, 300));
  g_assert_cmpuint (MSG (m, 2)->timestamp, ==, 2 * ts + 0x01000001);
  g_assert_true (payload_is (MSG (m, 2), 1, 3));
}

static void
test_extended_timestamp (void)
{
  extended_case (TRUE);
}

static void
test_extended_timestamp_old_clients (void)
{
  extended_case (FALSE);
}

static void
test_interleaved (void)
{
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) audio = g_byte_array_new ();
  g_autoptr (GByteArray) video = g_byte_array_new ();

  put_payload (audio, 50, 200);
  put_payload (video, 100, 300);
  put_header (b, 0, 4, 10, 200, 8, 1);
  g_byte_array_append (b, audio->data, 128);
  put_header (b, 0, 6, 20, 300, 9, 1);
  g_byte_array_append (b, video->data, 128);
  put_header (b, 3, 4, 0, 0, 0, 0);
  g_byte_array_append (b, audio->data + 128, 72);
  put_header (b, 3, 6, 0, 0, 0, 0);
  g_byte_array_append (b, video->data + 128, 128);
  put_header (b, 3, 6, 0, 0, 0, 0);
  g_byte_array_append (b, video->data + 256, 44);

  g_autoptr (GPtrArray) m = feed_ok (r, b);
  g_assert_cmpuint (m->len, ==, 2);
  g_assert_cmpuint (MSG (m, 0)->cstream_id, ==, 4);
  g_assert_true (payload_is (MSG (m, 0), 50, 200));
  g_assert_cmpuint (MSG (m, 1)->cstream_id, ==, 6);
  g_assert_true (payload_is (MSG (m, 1), 100, 300));
  g_assert_cmpuint (veza_rtmp_chunk_reader_get_n_chunk_streams (r), ==, 2);
}

static void
test_cstream_id_forms (void)
{
  const guint ids[] = { 2, 3, 63, 64, 65, 319, 320, 1000, VEZA_RTMP_MAX_CSTREAM_ID };
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (VezaRtmpChunkWriter) w = veza_rtmp_chunk_writer_new ();
  g_autoptr (GByteArray) hand = g_byte_array_new ();
  g_autoptr (GByteArray) written = g_byte_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      /* 200 bytes: a fmt 3 continuation in the same form too. */
      g_autoptr (GByteArray) p = g_byte_array_new ();
      put_payload (p, i, 200);
      put_header (hand, 0, ids[i], i, 200, 8, 1);
      g_byte_array_append (hand, p->data, 128);
      put_header (hand, 3, ids[i], 0, 0, 0, 0);
      g_byte_array_append (hand, p->data + 128, 72);
      veza_rtmp_chunk_writer_write (w, written, ids[i], 8, i, 1, p->data, p->len);
    }
  g_assert_cmpmem (hand->data, hand->len, written->data, written->len);

  g_autoptr (GPtrArray) m = feed_ok (r, hand);
  g_assert_cmpuint (m->len, ==, G_N_ELEMENTS (ids));
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_assert_cmpuint (MSG (m, i)->cstream_id, ==, ids[i]);
      g_assert_true (payload_is (MSG (m, i), i, 200));
    }
}

static void
put_set_chunk_size (GByteArray *b, guint32 size)
{
  put_header (b, 0, 2, 0, 4, VEZA_RTMP_MSG_SET_CHUNK_SIZE, 0);
  put_be (b, size, 4);
}

static void
test_set_chunk_size (void)
{
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) p = g_byte_array_new ();

  put_payload (p, 3, 5000);
  put_set_chunk_size (b, 4096);
  put_header (b, 0, 6, 0, 5000, 9, 1);
  g_byte_array_append (b, p->data, 4096);
  put_header (b, 3, 6, 0, 0, 0, 0);
  g_byte_array_append (b, p->data + 4096, 5000 - 4096);

  g_autoptr (GPtrArray) m = feed_ok (r, b);
  g_assert_cmpuint (veza_rtmp_chunk_reader_get_chunk_size (r), ==, 4096);
  g_assert_cmpuint (m->len, ==, 1); /* Set Chunk Size is applied, not handed out */
  g_assert_true (payload_is (MSG (m, 0), 3, 5000));

  /* The largest allowed size, and the smallest. */
  g_byte_array_set_size (b, 0);
  put_set_chunk_size (b, VEZA_RTMP_MAX_CHUNK_SIZE);
  g_ptr_array_unref (feed_ok (r, b));
  g_assert_cmpuint (veza_rtmp_chunk_reader_get_chunk_size (r), ==, VEZA_RTMP_MAX_CHUNK_SIZE);
  g_byte_array_set_size (b, 0);
  put_set_chunk_size (b, 1);
  put_header (b, 0, 6, 0, 3, 9, 1);
  put_payload (b, 0, 1);
  put_header (b, 3, 6, 0, 0, 0, 0);
  put_payload (b, 1, 1);
  put_header (b, 3, 6, 0, 0, 0, 0);
  put_payload (b, 2, 1);
  g_autoptr (GPtrArray) m2 = feed_ok (r, b);
  g_assert_cmpuint (m2->len, ==, 1);
  g_assert_true (payload_is (MSG (m2, 0), 0, 3));
}

static void
test_bad_chunk_size (void)
{
  const guint32 bad[] = { 0, 0x7FFFFFFF, 0x80000000, VEZA_RTMP_MAX_CHUNK_SIZE + 1 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
      g_autoptr (GByteArray) b = g_byte_array_new ();
      put_set_chunk_size (b, bad[i]);
      feed_fails (r, b, VEZA_RTMP_ERROR_LIMIT);
    }

  /* Too short to hold a size. */
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  put_header (b, 0, 2, 0, 2, VEZA_RTMP_MSG_SET_CHUNK_SIZE, 0);
  put_be (b, 1, 2);
  feed_fails (r, b, VEZA_RTMP_ERROR_PROTOCOL);
}

static void
test_abort (void)
{
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();

  put_header (b, 0, 4, 0, 300, 9, 1);
  put_payload (b, 0, 128);
  put_header (b, 0, 2, 0, 4, VEZA_RTMP_MSG_ABORT, 0);
  put_be (b, 4, 4);
  put_header (b, 0, 4, 40, 10, 8, 1);
  put_payload (b, 5, 10);

  g_autoptr (GPtrArray) m = feed_ok (r, b);
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_cmpuint (MSG (m, 0)->type, ==, 8);
  g_assert_true (payload_is (MSG (m, 0), 5, 10));
}

static void
test_control_messages (void)
{
  /* Window Ack Size, Acknowledgement and User Control are handed out. */
  g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
  g_autoptr (GByteArray) b = g_byte_array_new ();

  put_header (b, 0, 2, 0, 4, VEZA_RTMP_MSG_WINDOW_ACK_SIZE, 0);
  put_be (b, 2500000, 4);
  put_header (b, 1, 2, 0, 4, VEZA_RTMP_MSG_ACKNOWLEDGEMENT, 0);
  put_be (b, 12345, 4);
  put_header (b, 1, 2, 0, 6, VEZA_RTMP_MSG_USER_CONTROL, 0);
  put_be (b, 6, 2);
  put_be (b, 777, 4);

  g_autoptr (GPtrArray) m = feed_ok (r, b);
  g_assert_cmpuint (m->len, ==, 3);
  g_assert_cmpuint (MSG (m, 0)->type, ==, VEZA_RTMP_MSG_WINDOW_ACK_SIZE);
  g_assert_cmpuint (MSG (m, 1)->type, ==, VEZA_RTMP_MSG_ACKNOWLEDGEMENT);
  g_assert_cmpuint (MSG (m, 2)->type, ==, VEZA_RTMP_MSG_USER_CONTROL);
}

static void
test_bounds (void)
{
  /* Message longer than the limit. */
  {
    g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (1000, 0);
    g_autoptr (GByteArray) b = g_byte_array_new ();
    put_header (b, 0, 3, 0, 1001, 20, 0);
    feed_fails (r, b, VEZA_RTMP_ERROR_LIMIT);
  }
  /* Exactly the limit is fine. */
  {
    g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (1000, 0);
    g_autoptr (GByteArray) b = g_byte_array_new ();
    put_set_chunk_size (b, 1000);
    put_header (b, 0, 3, 0, 1000, 9, 0);
    put_payload (b, 0, 1000);
    g_autoptr (GPtrArray) m = feed_ok (r, b);
    g_assert_cmpuint (m->len, ==, 1);
  }
  /* Default limit: 8 MiB. */
  {
    g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
    g_autoptr (GByteArray) b = g_byte_array_new ();
    put_header (b, 0, 3, 0, 0xFFFFFF, 9, 0);
    feed_fails (r, b, VEZA_RTMP_ERROR_LIMIT);
  }
  /* Too many chunk streams. */
  {
    g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
    g_autoptr (GByteArray) b = g_byte_array_new ();
    for (guint id = 3; id < 3 + VEZA_RTMP_DEFAULT_MAX_CSTREAMS; id++)
      put_header (b, 0, id, 0, 0, 8, 1);
    g_autoptr (GPtrArray) m = feed_ok (r, b);
    g_assert_cmpuint (m->len, ==, VEZA_RTMP_DEFAULT_MAX_CSTREAMS);
    g_byte_array_set_size (b, 0);
    put_header (b, 0, 3 + VEZA_RTMP_DEFAULT_MAX_CSTREAMS, 0, 0, 8, 1);
    feed_fails (r, b, VEZA_RTMP_ERROR_LIMIT);
  }
  /* fmt 1, 2, 3 on a chunk stream never opened. */
  for (guint fmt = 1; fmt <= 3; fmt++)
    {
      g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
      g_autoptr (GByteArray) b = g_byte_array_new ();
      put_header (b, fmt, 9, 0, 4, 8, 0);
      put_payload (b, 0, 4);
      feed_fails (r, b, VEZA_RTMP_ERROR_PROTOCOL);
    }
  /* Unfinished messages holding more than twice the message limit. */
  {
    g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (1000, 0);
    g_autoptr (GByteArray) b = g_byte_array_new ();
    put_set_chunk_size (b, 500);
    for (guint id = 3; id < 7; id++)
      {
        put_header (b, 0, id, 0, 1000, 9, 1);
        put_payload (b, 0, 500);
      }
    g_ptr_array_unref (feed_ok (r, b));
    g_byte_array_set_size (b, 0);
    put_header (b, 0, 7, 0, 1000, 9, 1);
    put_payload (b, 0, 500);
    feed_fails (r, b, VEZA_RTMP_ERROR_LIMIT);
  }
}

/* Writer output read back, fed in pieces of every size. */
static void
test_writer_round_trip (void)
{
  g_autoptr (VezaRtmpChunkWriter) w = veza_rtmp_chunk_writer_new ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  const guint32 timestamps[] = { 0, 33, 0xFFFFFE, 0xFFFFFF, 0x12345678, 0xFFFFFFFF };
  const gsize sizes[] = { 0, 1, 127, 128, 129, 5000, 20000 };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (timestamps); i++)
    for (guint j = 0; j < G_N_ELEMENTS (sizes); j++)
      {
        g_autoptr (GByteArray) p = g_byte_array_new ();
        put_payload (p, i * 7 + j, sizes[j]);
        veza_rtmp_chunk_writer_write (w, out, 4 + (n % 3), 9, timestamps[i], 1, p->data,
                                      p->len);
        n++;
        if (n == 20)
          {
            guint8 cs[4] = { 0, 0, 0x10, 0 };
            veza_rtmp_chunk_writer_write (w, out, 2, VEZA_RTMP_MSG_SET_CHUNK_SIZE, 0, 0, cs, 4);
            g_assert_cmpuint (veza_rtmp_chunk_writer_get_chunk_size (w), ==, 4096);
          }
      }

  const gsize steps[] = { 1, 3, 7, 100, 4096, 1 << 20 };
  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (0, 0);
      g_autoptr (GPtrArray) m = new_messages ();
      for (gsize pos = 0; pos < out->len; pos += steps[s])
        {
          g_autoptr (GError) error = NULL;
          gsize len = MIN (steps[s], out->len - pos);
          g_assert_true (veza_rtmp_chunk_reader_feed (r, out->data + pos, len, m, &error));
          g_assert_no_error (error);
        }
      g_assert_cmpuint (m->len, ==, n);
      guint k = 0;
      for (guint i = 0; i < G_N_ELEMENTS (timestamps); i++)
        for (guint j = 0; j < G_N_ELEMENTS (sizes); j++, k++)
          {
            g_assert_cmpuint (MSG (m, k)->timestamp, ==, timestamps[i]);
            g_assert_cmpuint (MSG (m, k)->cstream_id, ==, 4 + (k % 3));
            g_assert_true (payload_is (MSG (m, k), i * 7 + j, sizes[j]));
          }
    }
}

static void
test_random (void)
{
  for (int i = 0; i < 2000; i++)
    {
      g_autoptr (VezaRtmpChunkReader) r = veza_rtmp_chunk_reader_new (4096, 8);
      g_autoptr (GPtrArray) m = new_messages ();
      gsize len = g_test_rand_int_range (0, 2048);
      g_autofree guint8 *buf = g_malloc (MAX (len, 1));
      for (gsize j = 0; j < len; j++)
        buf[j] = g_test_rand_int_range (0, 256);
      g_autoptr (GError) error = NULL;
      gboolean ok = veza_rtmp_chunk_reader_feed (r, buf, len, m, &error);
      g_assert_true (ok == (error == NULL));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/veza/rtmp/chunk/header-types", test_header_types);
  g_test_add_func ("/veza/rtmp/chunk/multi-chunk", test_multi_chunk);
  g_test_add_func ("/veza/rtmp/chunk/extended-timestamp", test_extended_timestamp);
  g_test_add_func ("/veza/rtmp/chunk/extended-timestamp-old-clients",
                   test_extended_timestamp_old_clients);
  g_test_add_func ("/veza/rtmp/chunk/interleaved", test_interleaved);
  g_test_add_func ("/veza/rtmp/chunk/cstream-id-forms", test_cstream_id_forms);
  g_test_add_func ("/veza/rtmp/chunk/set-chunk-size", test_set_chunk_size);
  g_test_add_func ("/veza/rtmp/chunk/bad-chunk-size", test_bad_chunk_size);
  g_test_add_func ("/veza/rtmp/chunk/abort", test_abort);
  g_test_add_func ("/veza/rtmp/chunk/control-messages", test_control_messages);
  g_test_add_func ("/veza/rtmp/chunk/bounds", test_bounds);
  g_test_add_func ("/veza/rtmp/chunk/writer-round-trip", test_writer_round_trip);
  g_test_add_func ("/veza/rtmp/chunk/random", test_random);

  return g_test_run ();
}
