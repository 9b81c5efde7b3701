/* veza-bus-source.c: a GstBus watch that adds no file descriptor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * gst_bus_create_watch() puts a socket of the bus into the main context's
 * poll set, and every iteration of the loop polls it.  With a pipeline per
 * stream, those sockets are a good part of what the daemon polls hundreds
 * of times a second, for a few messages per stream and minute.  This
 * source takes the messages with a sync handler instead, in the thread
 * that posts them, queues them and makes itself ready: the loop only hears
 * of the bus when there is a message.
 *
 * The callback is a GstBusFunc, as for gst_bus_add_watch(); returning
 * G_SOURCE_REMOVE drops the messages still queued.  The sync handler holds
 * a reference on the source until veza_bus_source_destroy().
 */

#include "veza-bus-source.h"

typedef struct
{
  GSource source;
  GstBus *bus;
  GMutex lock;
  GQueue messages;              /* GstMessage*, under lock */
} BusSource;

static GstBusSyncReply
sync_handler (GstBus *bus, GstMessage *message, gpointer user_data)
{
  BusSource *self = user_data;
  gboolean was_empty;

  g_mutex_lock (&self->lock);
  was_empty = g_queue_is_empty (&self->messages);
  g_queue_push_tail (&self->messages, gst_message_ref (message));
  g_mutex_unlock (&self->lock);

  if (was_empty)
    g_source_set_ready_time (&self->source, 0);
  return GST_BUS_DROP;
}

static gboolean
bus_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  BusSource *self = (BusSource *) source;
  GstBusFunc func = (GstBusFunc) callback;

  g_source_set_ready_time (source, -1);
  if (func == NULL)
    return G_SOURCE_CONTINUE;

  while (!g_source_is_destroyed (source))
    {
      GstMessage *message;
      gboolean keep;

      g_mutex_lock (&self->lock);
      message = g_queue_pop_head (&self->messages);
      g_mutex_unlock (&self->lock);
      if (message == NULL)
        break;

      keep = func (self->bus, message, user_data);
      gst_message_unref (message);
      if (!keep)
        return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
bus_source_finalize (GSource *source)
{
  BusSource *self = (BusSource *) source;

  g_queue_clear_full (&self->messages, (GDestroyNotify) gst_message_unref);
  g_mutex_clear (&self->lock);
  gst_object_unref (self->bus);
}

static GSourceFuncs bus_source_funcs = {
  .dispatch = bus_source_dispatch,
  .finalize = bus_source_finalize,
};

/**
 * veza_bus_source_new:
 * @bus: a bus with no sync handler yet
 *
 * Returns: (transfer full): a source to give a GstBusFunc callback and
 *   attach; release it with veza_bus_source_destroy()
 */
GSource *
veza_bus_source_new (GstBus *bus)
{
  BusSource *self;

  g_return_val_if_fail (GST_IS_BUS (bus), NULL);

  self = (BusSource *) g_source_new (&bus_source_funcs, sizeof (BusSource));
  g_source_set_name (&self->source, "veza-bus-source");
  self->bus = gst_object_ref (bus);
  g_mutex_init (&self->lock);
  g_queue_init (&self->messages);
  gst_bus_set_sync_handler (bus, sync_handler, g_source_ref (&self->source),
                            (GDestroyNotify) g_source_unref);
  return &self->source;
}

/**
 * veza_bus_source_destroy:
 * @source: (inout) (nullable): a source from veza_bus_source_new(), cleared
 *
 * Stops taking the bus's messages, drops the queued ones and destroys the
 * source.
 */
void
veza_bus_source_destroy (GSource **source)
{
  BusSource *self;

  if (*source == NULL)
    return;
  self = (BusSource *) *source;
  gst_bus_set_sync_handler (self->bus, NULL, NULL, NULL);
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}
