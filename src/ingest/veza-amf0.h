/* veza-amf0.h — bounded AMF0 decoder and encoder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VEZA_AMF0_ERROR (veza_amf0_error_quark ())
GQuark veza_amf0_error_quark (void);

/**
 * VezaAmf0Error:
 * @VEZA_AMF0_ERROR_TRUNCATED: the input ends inside a value
 * @VEZA_AMF0_ERROR_INVALID: an unknown or unsupported type marker, or a malformed value
 * @VEZA_AMF0_ERROR_LIMIT: a bound (depth, element count, input size) was exceeded
 */
typedef enum {
  VEZA_AMF0_ERROR_TRUNCATED,
  VEZA_AMF0_ERROR_INVALID,
  VEZA_AMF0_ERROR_LIMIT,
} VezaAmf0Error;

/* Bounds of the decoder. */
#define VEZA_AMF0_MAX_DEPTH      16          /* nested objects/arrays */
#define VEZA_AMF0_MAX_ELEMENTS   65536       /* values in one decode call, all levels */
#define VEZA_AMF0_MAX_INPUT      (16u << 20) /* bytes given to one decode call */

/* The type markers of AMF0 that this codec knows. */
typedef enum {
  VEZA_AMF0_NUMBER       = 0x00,
  VEZA_AMF0_BOOLEAN      = 0x01,
  VEZA_AMF0_STRING       = 0x02,
  VEZA_AMF0_OBJECT       = 0x03,
  VEZA_AMF0_NULL         = 0x05,
  VEZA_AMF0_UNDEFINED    = 0x06,
  VEZA_AMF0_ECMA_ARRAY   = 0x08,
  VEZA_AMF0_OBJECT_END   = 0x09,
  VEZA_AMF0_STRICT_ARRAY = 0x0a,
  VEZA_AMF0_DATE         = 0x0b,
  VEZA_AMF0_LONG_STRING  = 0x0c,
} VezaAmf0Type;

/**
 * VezaAmf0Value:
 *
 * One AMF0 value: a scalar, or a container (object and ECMA array hold named
 * properties in order, strict array holds values). Owned as a tree: freeing a
 * container frees its children.
 */
typedef struct _VezaAmf0Value VezaAmf0Value;

VezaAmf0Value *veza_amf0_value_new_number       (double value);
VezaAmf0Value *veza_amf0_value_new_boolean      (gboolean value);
VezaAmf0Value *veza_amf0_value_new_string       (const char *value);
VezaAmf0Value *veza_amf0_value_new_string_len   (const char *value, gsize len);
VezaAmf0Value *veza_amf0_value_new_null         (void);
VezaAmf0Value *veza_amf0_value_new_undefined    (void);
VezaAmf0Value *veza_amf0_value_new_object       (void);
VezaAmf0Value *veza_amf0_value_new_ecma_array   (void);
VezaAmf0Value *veza_amf0_value_new_strict_array (void);
VezaAmf0Value *veza_amf0_value_new_date         (double ms_since_epoch, gint16 tz_minutes);
void           veza_amf0_value_free             (VezaAmf0Value *value);
VezaAmf0Value *veza_amf0_value_copy             (const VezaAmf0Value *value);

VezaAmf0Type   veza_amf0_value_kind             (const VezaAmf0Value *value);
/* Number or date (ms); 0 for other kinds. */
double         veza_amf0_value_get_number       (const VezaAmf0Value *value);
gboolean       veza_amf0_value_get_boolean      (const VezaAmf0Value *value);
gint16         veza_amf0_value_get_date_tz      (const VezaAmf0Value *value);
/* (nullable): the bytes of a string or long string, NUL-terminated; %NULL for other kinds.
 * A string may hold an embedded NUL: use @len for the full length. */
const char    *veza_amf0_value_get_string       (const VezaAmf0Value *value, gsize *len);

/* Containers. Objects and ECMA arrays: named properties; strict arrays: elements. */
guint                veza_amf0_value_get_n_children (const VezaAmf0Value *value);
const VezaAmf0Value *veza_amf0_value_get_child      (const VezaAmf0Value *value, guint index,
                                                     const char **name);
/* (nullable): the first property called @name of an object or ECMA array */
const VezaAmf0Value *veza_amf0_value_lookup         (const VezaAmf0Value *value, const char *name);
/* (nullable): the property @name if it is a string, else %NULL */
const char          *veza_amf0_value_lookup_string  (const VezaAmf0Value *value, const char *name);
/* Takes ownership of @child. */
void                 veza_amf0_value_set            (VezaAmf0Value *object, const char *name,
                                                     VezaAmf0Value *child);
void                 veza_amf0_value_append         (VezaAmf0Value *array, VezaAmf0Value *child);
/* Convenience setters for objects. */
void veza_amf0_value_set_string (VezaAmf0Value *object, const char *name, const char *value);
void veza_amf0_value_set_number (VezaAmf0Value *object, const char *name, double value);
void veza_amf0_value_set_boolean (VezaAmf0Value *object, const char *name, gboolean value);

/**
 * veza_amf0_decode:
 * @data: (array length=size): input bytes
 * @consumed: (out) (optional): bytes used by the value
 *
 * Decodes one value from the start of @data.
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set
 */
VezaAmf0Value *veza_amf0_decode     (const guint8 *data, gsize size, gsize *consumed,
                                     GError **error);
/**
 * veza_amf0_decode_all:
 *
 * Decodes a sequence of values filling the whole of @data (as in a command
 * message). The bounds apply to the whole sequence.
 * Returns: (transfer full) (element-type VezaAmf0Value) (nullable): the values
 */
GPtrArray     *veza_amf0_decode_all (const guint8 *data, gsize size, GError **error);

/* Appends the encoding of @value to @out. A string longer than 65535 bytes is
 * written as a long string. */
void           veza_amf0_encode     (GByteArray *out, const VezaAmf0Value *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaAmf0Value, veza_amf0_value_free)

G_END_DECLS
