/* veza-flv-src.h: a live source of FLV bytes pushed by the caller
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define VEZA_TYPE_FLV_SRC (veza_flv_src_get_type ())
G_DECLARE_FINAL_TYPE (VezaFlvSrc, veza_flv_src, VEZA, FLV_SRC, GstElement)

GstElement    *veza_flv_src_new           (void);
GstFlowReturn  veza_flv_src_push          (VezaFlvSrc *self,
                                           GstBuffer  *buffer);
gboolean       veza_flv_src_end_of_stream (VezaFlvSrc *self);

G_END_DECLS
