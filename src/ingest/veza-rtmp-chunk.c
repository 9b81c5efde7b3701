/* veza-rtmp-chunk.c — RTMP chunk stream reader and writer
 *
 * The reader never commits a chunk before all of it (headers and payload) is
 * in its buffer, so a chunk split over several reads is parsed once. Memory
 * held per connection is bounded by what the peer actually sent and by the
 * limits given at construction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-rtmp-chunk.h"

#include <string.h>

void
veza_rtmp_message_free (VezaRtmpMessage *msg)
{
  if (msg == NULL)
    return;
  g_clear_pointer (&msg->payload, g_bytes_unref);
  g_free (msg);
}

/* ---------------------------------------------------------------------- */
/* Reader                                                                 */
/* ---------------------------------------------------------------------- */

typedef struct {
  guint32 id;
  /* Header of the latest message, as later headers refer to it. */
  guint32 timestamp;  /* absolute */
  guint32 delta;      /* last timestamp field (absolute for fmt 0, as clients expect) */
  guint32 length;
  guint8 type;
  guint32 stream_id;
  gboolean extended;  /* the last fmt 0–2 header used the extended timestamp */
  guint32 ext_value;
  /* Message being reassembled, NULL between messages. */
  GByteArray *partial;
} ChunkStream;

struct _VezaRtmpChunkReader {
  guint32 max_message_size;
  guint max_chunk_streams;
  guint32 chunk_size;
  GHashTable *streams; /* id -> ChunkStream */
  GByteArray *buf;
  gsize partial_bytes; /* sum of partial->len */
  gboolean failed;
};

static void
chunk_stream_free (gpointer data)
{
  ChunkStream *cs = data;
  if (cs->partial)
    g_byte_array_unref (cs->partial);
  g_free (cs);
}

VezaRtmpChunkReader *
veza_rtmp_chunk_reader_new (guint32 max_message_size, guint max_chunk_streams)
{
  VezaRtmpChunkReader *r = g_new0 (VezaRtmpChunkReader, 1);

  r->max_message_size = max_message_size ? MIN (max_message_size, 0xFFFFFF)
                                         : VEZA_RTMP_DEFAULT_MAX_MESSAGE;
  r->max_chunk_streams = max_chunk_streams ? max_chunk_streams : VEZA_RTMP_DEFAULT_MAX_CSTREAMS;
  r->chunk_size = VEZA_RTMP_DEFAULT_CHUNK_SIZE;
  r->streams = g_hash_table_new_full (NULL, NULL, NULL, chunk_stream_free);
  r->buf = g_byte_array_new ();
  return r;
}

void
veza_rtmp_chunk_reader_free (VezaRtmpChunkReader *reader)
{
  if (reader == NULL)
    return;
  g_hash_table_unref (reader->streams);
  g_byte_array_unref (reader->buf);
  g_free (reader);
}

guint32
veza_rtmp_chunk_reader_get_chunk_size (VezaRtmpChunkReader *reader)
{
  return reader->chunk_size;
}

guint
veza_rtmp_chunk_reader_get_n_chunk_streams (VezaRtmpChunkReader *reader)
{
  return g_hash_table_size (reader->streams);
}

static guint32
be24 (const guint8 *p)
{
  return ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint32
le32 (const guint8 *p)
{
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

static void
discard_partial (VezaRtmpChunkReader *r, ChunkStream *cs)
{
  if (cs->partial == NULL)
    return;
  r->partial_bytes -= cs->partial->len;
  g_clear_pointer (&cs->partial, g_byte_array_unref);
}

/* Protocol control messages that change how chunks are read. */
static gboolean
apply_control (VezaRtmpChunkReader *r, const VezaRtmpMessage *msg, GError **error)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (msg->payload, &size);

  if (size < 4)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                   "control message %u too short (%" G_GSIZE_FORMAT " bytes)", msg->type, size);
      return FALSE;
    }

  guint32 value = be32 (p);
  if (msg->type == VEZA_RTMP_MSG_SET_CHUNK_SIZE)
    {
      if (value == 0 || value > VEZA_RTMP_MAX_CHUNK_SIZE)
        {
          g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_LIMIT,
                       "refused chunk size %u (allowed 1..%u)", value, VEZA_RTMP_MAX_CHUNK_SIZE);
          return FALSE;
        }
      r->chunk_size = value;
    }
  else
    {
      ChunkStream *cs = g_hash_table_lookup (r->streams, GUINT_TO_POINTER (value));
      if (cs)
        discard_partial (r, cs);
    }
  return TRUE;
}

/* Parses one chunk at @p (@avail bytes). Returns the chunk's total size, 0 if
 * more input is needed, or -1 on error. */
static gssize
parse_chunk (VezaRtmpChunkReader *r, const guint8 *p, gsize avail, GPtrArray *messages,
             GError **error)
{
  gsize pos = 1;
  guint fmt, id;
  ChunkStream *cs;

  if (avail < 1)
    return 0;
  fmt = p[0] >> 6;
  id = p[0] & 0x3f;
  if (id == 0)
    {
      if (avail < 2)
        return 0;
      id = 64 + p[1];
      pos = 2;
    }
  else if (id == 1)
    {
      if (avail < 3)
        return 0;
      id = 64 + p[1] + ((guint) p[2] << 8);
      pos = 3;
    }

  static const gsize header_sizes[4] = { 11, 7, 3, 0 };
  if (avail < pos + header_sizes[fmt])
    return 0;

  cs = g_hash_table_lookup (r->streams, GUINT_TO_POINTER (id));
  if (cs == NULL && fmt != 0)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                   "chunk of type %u on new chunk stream %u", fmt, id);
      return -1;
    }
  if (cs == NULL && g_hash_table_size (r->streams) >= r->max_chunk_streams)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_LIMIT,
                   "more than %u chunk streams", r->max_chunk_streams);
      return -1;
    }

  /* Header fields as they will be once this chunk is committed. */
  guint32 field = 0, length = cs ? cs->length : 0, stream_id = cs ? cs->stream_id : 0;
  guint8 type = cs ? cs->type : 0;
  gboolean extended = cs ? cs->extended : FALSE;
  guint32 ext_value = cs ? cs->ext_value : 0;
  gboolean continuation = (fmt == 3 && cs->partial != NULL);
  const guint8 *h = p + pos;

  if (fmt <= 2)
    {
      field = be24 (h);
      if (fmt <= 1)
        {
          length = be24 (h + 3);
          type = h[6];
        }
      if (fmt == 0)
        stream_id = le32 (h + 7);
      pos += header_sizes[fmt];
      extended = (field == 0xFFFFFF);
      if (extended)
        {
          if (avail < pos + 4)
            return 0;
          ext_value = be32 (p + pos);
          field = ext_value;
          pos += 4;
        }
    }
  else if (extended)
    {
      /* fmt 3 after an extended header repeats the extended timestamp.
       * Some old clients leave it out on continuation chunks; there, take
       * the four bytes as the timestamp only if they match. */
      if (avail < pos + 4)
        return 0;
      if (!continuation || be32 (p + pos) == ext_value)
        {
          field = be32 (p + pos);
          pos += 4;
        }
      else
        field = ext_value;
    }

  if (length > r->max_message_size)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_LIMIT,
                   "message of %u bytes on chunk stream %u exceeds the limit of %u",
                   length, id, r->max_message_size);
      return -1;
    }

  gsize received = continuation ? cs->partial->len : 0;
  gsize n = MIN ((gsize) r->chunk_size, length - received);
  if (avail - pos < n)
    return 0;

  /* Commit. */
  if (cs == NULL)
    {
      cs = g_new0 (ChunkStream, 1);
      cs->id = id;
      g_hash_table_insert (r->streams, GUINT_TO_POINTER (id), cs);
    }
  if (!continuation)
    {
      if (cs->partial)
        {
          g_debug ("chunk stream %u: new message before the previous one ended", id);
          discard_partial (r, cs);
        }
      if (fmt == 0)
        {
          cs->timestamp = field;
          cs->delta = field;
        }
      else
        {
          if (fmt != 3)
            cs->delta = field;
          cs->timestamp += cs->delta;
        }
      cs->length = length;
      cs->type = type;
      cs->stream_id = stream_id;
      if (fmt != 3)
        {
          cs->extended = extended;
          cs->ext_value = ext_value;
        }
      cs->partial = g_byte_array_sized_new (MIN (length, 65536));
    }

  if (r->partial_bytes + n > 2 * (gsize) r->max_message_size)
    {
      g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_LIMIT,
                   "too many unfinished messages (%" G_GSIZE_FORMAT " bytes)", r->partial_bytes);
      return -1;
    }
  g_byte_array_append (cs->partial, p + pos, n);
  r->partial_bytes += n;
  pos += n;

  if (cs->partial->len == cs->length)
    {
      VezaRtmpMessage *msg = g_new0 (VezaRtmpMessage, 1);
      msg->cstream_id = id;
      msg->type = cs->type;
      msg->timestamp = cs->timestamp;
      msg->stream_id = cs->stream_id;
      r->partial_bytes -= cs->partial->len;
      msg->payload = g_byte_array_free_to_bytes (g_steal_pointer (&cs->partial));

      if (msg->type == VEZA_RTMP_MSG_SET_CHUNK_SIZE || msg->type == VEZA_RTMP_MSG_ABORT)
        {
          gboolean ok = apply_control (r, msg, error);
          veza_rtmp_message_free (msg);
          if (!ok)
            return -1;
        }
      else
        g_ptr_array_add (messages, msg);
    }

  return pos;
}

gboolean
veza_rtmp_chunk_reader_feed (VezaRtmpChunkReader *reader,
                             const guint8        *data,
                             gsize                len,
                             GPtrArray           *messages,
                             GError             **error)
{
  gsize pos = 0;

  g_return_val_if_fail (reader != NULL && messages != NULL, FALSE);

  if (reader->failed)
    {
      g_set_error_literal (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_PROTOCOL,
                           "chunk stream already failed");
      return FALSE;
    }
  if (len > 0)
    g_byte_array_append (reader->buf, data, len);

  for (;;)
    {
      gssize n = parse_chunk (reader, reader->buf->data + pos, reader->buf->len - pos,
                              messages, error);
      if (n < 0)
        {
          reader->failed = TRUE;
          g_byte_array_set_size (reader->buf, 0);
          return FALSE;
        }
      if (n == 0)
        break;
      pos += n;
    }

  if (pos > 0)
    g_byte_array_remove_range (reader->buf, 0, pos);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Writer                                                                 */
/* ---------------------------------------------------------------------- */

struct _VezaRtmpChunkWriter {
  guint32 chunk_size;
};

VezaRtmpChunkWriter *
veza_rtmp_chunk_writer_new (void)
{
  VezaRtmpChunkWriter *w = g_new0 (VezaRtmpChunkWriter, 1);
  w->chunk_size = VEZA_RTMP_DEFAULT_CHUNK_SIZE;
  return w;
}

void
veza_rtmp_chunk_writer_free (VezaRtmpChunkWriter *writer)
{
  g_free (writer);
}

guint32
veza_rtmp_chunk_writer_get_chunk_size (VezaRtmpChunkWriter *writer)
{
  return writer->chunk_size;
}

static void
put_basic_header (GByteArray *out, guint fmt, guint32 id)
{
  guint8 b[3];

  if (id < 64)
    {
      b[0] = (fmt << 6) | id;
      g_byte_array_append (out, b, 1);
    }
  else if (id < 64 + 256)
    {
      b[0] = fmt << 6;
      b[1] = id - 64;
      g_byte_array_append (out, b, 2);
    }
  else
    {
      b[0] = (fmt << 6) | 1;
      b[1] = (id - 64) & 0xff;
      b[2] = (id - 64) >> 8;
      g_byte_array_append (out, b, 3);
    }
}

void
veza_rtmp_chunk_writer_write (VezaRtmpChunkWriter *writer,
                              GByteArray          *out,
                              guint32              cstream_id,
                              guint8               type,
                              guint32              timestamp,
                              guint32              stream_id,
                              const guint8        *payload,
                              gsize                len)
{
  gboolean extended = timestamp >= 0xFFFFFF;
  guint8 h[11], ext[4] = { timestamp >> 24, timestamp >> 16, timestamp >> 8, timestamp };
  guint32 field = extended ? 0xFFFFFF : timestamp;
  gsize pos = 0;

  g_return_if_fail (cstream_id >= 2 && cstream_id <= VEZA_RTMP_MAX_CSTREAM_ID);
  g_return_if_fail (len <= 0xFFFFFF);

  put_basic_header (out, 0, cstream_id);
  h[0] = field >> 16;
  h[1] = field >> 8;
  h[2] = field;
  h[3] = len >> 16;
  h[4] = len >> 8;
  h[5] = len;
  h[6] = type;
  h[7] = stream_id;
  h[8] = stream_id >> 8;
  h[9] = stream_id >> 16;
  h[10] = stream_id >> 24;
  g_byte_array_append (out, h, sizeof h);
  if (extended)
    g_byte_array_append (out, ext, 4);

  do
    {
      gsize n = MIN (len - pos, writer->chunk_size);
      if (pos > 0)
        {
          put_basic_header (out, 3, cstream_id);
          if (extended)
            g_byte_array_append (out, ext, 4);
        }
      if (n > 0)
        g_byte_array_append (out, payload + pos, n);
      pos += n;
    }
  while (pos < len);

  if (type == VEZA_RTMP_MSG_SET_CHUNK_SIZE && len >= 4)
    {
      guint32 size = be32 (payload) & 0x7FFFFFFF;
      if (size > 0)
        writer->chunk_size = size;
    }
}
