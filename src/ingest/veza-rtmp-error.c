/* veza-rtmp-error.c — the error domain of the RTMP ingest
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-rtmp-error.h"

G_DEFINE_QUARK (veza-rtmp-error-quark, veza_rtmp_error)
