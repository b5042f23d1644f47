/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proto.c: encoding and decoding of the apilogind socket protocol (see proto.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "proto.h"
#include "secure.h"

static const size_t tag_max[_APILOGIN_TAG_MAX] = {
        [APILOGIN_TAG_USER] = APILOGIN_NAME_MAX,
        [APILOGIN_TAG_SECRET] = APILOGIN_SECRET_MAX,
        [APILOGIN_TAG_SERVICE] = 64,
        [APILOGIN_TAG_TTY] = 128,
        [APILOGIN_TAG_RHOST] = 256,
        [APILOGIN_TAG_PROVIDER] = 64,
        [APILOGIN_TAG_PID] = 4,
        [APILOGIN_TAG_SESSION] = 64,
        [APILOGIN_TAG_OUTCOME] = 4,
        [APILOGIN_TAG_MESSAGE] = 512,
        [APILOGIN_TAG_UID] = 4,
        [APILOGIN_TAG_TOKEN_FILE] = 256,
        [APILOGIN_TAG_TEXT] = 8192,
        [APILOGIN_TAG_TIMEOUT] = 4,
        [APILOGIN_TAG_OFFSET] = 4,
};

size_t apilogin_proto_tag_max(unsigned tag)
{
        return tag < _APILOGIN_TAG_MAX ? tag_max[tag] : 0;
}

static void put_u16(uint8_t *p, uint16_t v)
{
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

static void put_u32(uint8_t *p, uint32_t v)
{
        p[0] = v >> 24;
        p[1] = (v >> 16) & 0xff;
        p[2] = (v >> 8) & 0xff;
        p[3] = v & 0xff;
}

static uint16_t get_u16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append one field; *pos advances. */
static int put_field(uint8_t *out, size_t outsz, size_t *pos, unsigned tag, const void *data,
                     size_t len)
{
        if (len > apilogin_proto_tag_max(tag))
                return -EINVAL;
        if (3 + len > outsz - *pos)
                return -EMSGSIZE;
        out[*pos] = (uint8_t)tag;
        put_u16(out + *pos + 1, (uint16_t)len);
        memcpy(out + *pos + 3, data, len);
        *pos += 3 + len;
        return 0;
}

static int put_str(uint8_t *out, size_t outsz, size_t *pos, unsigned tag, const char *s)
{
        return s ? put_field(out, outsz, pos, tag, s, strlen(s)) : 0;
}

static int put_int(uint8_t *out, size_t outsz, size_t *pos, unsigned tag, bool has, uint32_t v)
{
        uint8_t b[4];

        if (!has)
                return 0;
        put_u32(b, v);
        return put_field(out, outsz, pos, tag, b, sizeof(b));
}

int apilogin_proto_encode(const struct apilogin_msg *m, uint8_t *out, size_t outsz)
{
        size_t limit = outsz < APILOGIN_PROTO_MAX_MSG ? outsz : APILOGIN_PROTO_MAX_MSG;
        size_t pos = APILOGIN_PROTO_HEADER;
        int r = 0;

        if (limit < APILOGIN_PROTO_HEADER)
                return -EMSGSIZE;
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_USER, m->user);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_SECRET, m->secret);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_SERVICE, m->service);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_TTY, m->tty);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_RHOST, m->rhost);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_PROVIDER, m->provider);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_SESSION, m->session);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_MESSAGE, m->message);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_TOKEN_FILE, m->token_file);
        r = r ?: put_str(out, limit, &pos, APILOGIN_TAG_TEXT, m->text);
        r = r ?: put_int(out, limit, &pos, APILOGIN_TAG_PID, m->has_pid, m->pid);
        r = r ?: put_int(out, limit, &pos, APILOGIN_TAG_UID, m->has_uid, m->uid);
        r = r ?: put_int(out, limit, &pos, APILOGIN_TAG_OUTCOME, m->has_outcome, m->outcome);
        r = r ?: put_int(out, limit, &pos, APILOGIN_TAG_TIMEOUT, m->has_timeout, m->timeout);
        r = r ?: put_int(out, limit, &pos, APILOGIN_TAG_OFFSET, m->has_offset, m->offset);
        if (r < 0) {
                apilogin_secure_erase(out, pos);
                return r;
        }
        put_u16(out, APILOGIN_PROTO_MAGIC);
        out[2] = APILOGIN_PROTO_VERSION;
        out[3] = m->type;
        put_u32(out + 4, (uint32_t)(pos - APILOGIN_PROTO_HEADER));
        return (int)pos;
}

int apilogin_proto_header(const uint8_t hdr[APILOGIN_PROTO_HEADER], uint8_t *ret_type,
                          uint32_t *ret_body_len)
{
        uint32_t len;

        if (get_u16(hdr) != APILOGIN_PROTO_MAGIC)
                return -EBADMSG;
        *ret_type = hdr[3];
        if (hdr[2] != APILOGIN_PROTO_VERSION)
                return -EPROTONOSUPPORT;
        len = get_u32(hdr + 4);
        if (len > APILOGIN_PROTO_MAX_BODY)
                return -EMSGSIZE;
        *ret_body_len = len;
        return 0;
}

static const char **str_slot(struct apilogin_msg *m, unsigned tag)
{
        switch (tag) {
        case APILOGIN_TAG_USER: return &m->user;
        case APILOGIN_TAG_SECRET: return &m->secret;
        case APILOGIN_TAG_SERVICE: return &m->service;
        case APILOGIN_TAG_TTY: return &m->tty;
        case APILOGIN_TAG_RHOST: return &m->rhost;
        case APILOGIN_TAG_PROVIDER: return &m->provider;
        case APILOGIN_TAG_SESSION: return &m->session;
        case APILOGIN_TAG_MESSAGE: return &m->message;
        case APILOGIN_TAG_TOKEN_FILE: return &m->token_file;
        case APILOGIN_TAG_TEXT: return &m->text;
        default: return NULL;
        }
}

static int take_int(struct apilogin_msg *m, unsigned tag, const uint8_t *p, size_t len)
{
        bool *has;
        uint32_t *v;

        switch (tag) {
        case APILOGIN_TAG_PID: has = &m->has_pid; v = &m->pid; break;
        case APILOGIN_TAG_UID: has = &m->has_uid; v = &m->uid; break;
        case APILOGIN_TAG_OUTCOME: has = &m->has_outcome; v = &m->outcome; break;
        case APILOGIN_TAG_TIMEOUT: has = &m->has_timeout; v = &m->timeout; break;
        case APILOGIN_TAG_OFFSET: has = &m->has_offset; v = &m->offset; break;
        default: return -EBADMSG;
        }
        if (len != 4 || *has)
                return -EBADMSG;
        *has = true;
        *v = get_u32(p);
        return 0;
}

/* Copy one string field into storage (at *used) and point its slot at it. */
static int take_str(struct apilogin_msg *m, const char **slot, const uint8_t *p, size_t len,
                    size_t *used)
{
        if (*slot || memchr(p, 0, len))
                return -EBADMSG;
        /* storage holds the whole body plus one NUL per tag, so this cannot overflow */
        memcpy(m->storage + *used, p, len);
        m->storage[*used + len] = 0;
        *slot = m->storage + *used;
        *used += len + 1;
        return 0;
}

static int decode_fields(struct apilogin_msg *m, const uint8_t *p, size_t len)
{
        size_t off = 0, used = 0;

        while (off < len) {
                unsigned tag;
                size_t flen;
                const char **slot;
                int r = 0;

                if (len - off < 3)
                        return -EBADMSG;
                tag = p[off];
                flen = get_u16(p + off + 1);
                off += 3;
                if (flen > len - off)
                        return -EBADMSG;
                if (tag >= _APILOGIN_TAG_MAX || tag == 0) {
                        off += flen; /* unknown tag: skip */
                        continue;
                }
                if (flen > tag_max[tag])
                        return -EBADMSG;
                slot = str_slot(m, tag);
                r = slot ? take_str(m, slot, p + off, flen, &used) : take_int(m, tag, p + off, flen);
                if (r < 0)
                        return r;
                off += flen;
        }
        return 0;
}

int apilogin_proto_decode(const uint8_t *buf, size_t len, struct apilogin_msg *ret)
{
        uint32_t body_len;
        uint8_t type;
        int r;

        apilogin_proto_wipe(ret);
        if (len < APILOGIN_PROTO_HEADER)
                return -EBADMSG;
        r = apilogin_proto_header(buf, &type, &body_len);
        if (r < 0)
                return r;
        if (body_len != len - APILOGIN_PROTO_HEADER)
                return -EBADMSG;
        ret->type = type;
        r = decode_fields(ret, buf + APILOGIN_PROTO_HEADER, body_len);
        if (r < 0)
                apilogin_proto_wipe(ret);
        return r;
}

void apilogin_proto_wipe(struct apilogin_msg *m)
{
        apilogin_secure_erase(m, sizeof(*m));
}
