/* veza-media-error.h: error domain of the media subsystem
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VezaMediaError:
 * @VEZA_MEDIA_ERROR_FAILED: generic failure of a pipeline
 * @VEZA_MEDIA_ERROR_MISSING_ELEMENT: a GStreamer element is not installed
 * @VEZA_MEDIA_ERROR_INVALID_DATA: malformed FLV data or playlist
 * @VEZA_MEDIA_ERROR_UNSUPPORTED_CODEC: a codec other than H.264 / AAC
 * @VEZA_MEDIA_ERROR_OVERFLOW: the pipeline could not keep up with its input
 * @VEZA_MEDIA_ERROR_SOURCE: the pull source failed
 */
typedef enum
{
  VEZA_MEDIA_ERROR_FAILED,
  VEZA_MEDIA_ERROR_MISSING_ELEMENT,
  VEZA_MEDIA_ERROR_INVALID_DATA,
  VEZA_MEDIA_ERROR_UNSUPPORTED_CODEC,
  VEZA_MEDIA_ERROR_OVERFLOW,
  VEZA_MEDIA_ERROR_SOURCE,
} VezaMediaError;

#define VEZA_MEDIA_ERROR (veza_media_error_quark ())
GQuark veza_media_error_quark (void);

G_END_DECLS
