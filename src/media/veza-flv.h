/* veza-flv.h: FLV tags in and out (bounded, GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "veza-media-error.h"

G_BEGIN_DECLS

#define VEZA_FLV_TAG_AUDIO  8
#define VEZA_FLV_TAG_VIDEO  9
#define VEZA_FLV_TAG_SCRIPT 18

/* FLV codec ids as found in the first byte of a tag body */
#define VEZA_FLV_VIDEO_CODEC_AVC 7
#define VEZA_FLV_AUDIO_CODEC_AAC 10

/* a tag's 11-byte header and 4-byte PreviousTagSize around its body */
#define VEZA_FLV_TAG_OVERHEAD 15

typedef struct
{
  guint8 type;          /* VEZA_FLV_TAG_* */
  guint32 timestamp;    /* milliseconds */
  GBytes *payload;      /* the tag body */
} VezaFlvTag;

VezaFlvTag *veza_flv_tag_new  (guint8 type, guint32 timestamp, GBytes *payload);
void        veza_flv_tag_free (VezaFlvTag *tag);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaFlvTag, veza_flv_tag_free)

typedef struct _VezaFlvParser VezaFlvParser;

VezaFlvParser *veza_flv_parser_new  (void);
void           veza_flv_parser_free (VezaFlvParser *parser);
gboolean       veza_flv_parser_feed (VezaFlvParser *parser,
                                     const guint8  *data,
                                     gsize          len,
                                     GPtrArray     *tags,
                                     GError       **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaFlvParser, veza_flv_parser_free)

GBytes *veza_flv_header_new (gboolean has_audio,
                             gboolean has_video);
gsize   veza_flv_write_tag  (guint8     *out,
                             guint8      type,
                             guint32     timestamp,
                             const guint8 *payload,
                             gsize       payload_len);
void    veza_flv_append_tag (GByteArray *out,
                             guint8      type,
                             guint32     timestamp,
                             const guint8 *payload,
                             gsize       payload_len);

G_END_DECLS
