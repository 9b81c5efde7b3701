/* veza-bus-source.h: a GstBus watch that adds no file descriptor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GSource *veza_bus_source_new     (GstBus   *bus);
void     veza_bus_source_destroy (GSource **source);

G_END_DECLS
