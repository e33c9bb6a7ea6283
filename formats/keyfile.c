/*
 * keyfile.c - private key file permissions (see keyfile.h).
 */
#include "keyfile.h"

#include <errno.h>
#include <sys/stat.h>

ckpt_status ckpt_keyfile_check_perms(const char *path, ckpt_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    if (st.st_mode & 077)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "%s: permissions %04o are too open: a private key must not be "
                            "accessible by group or others (chmod 600 '%s', or "
                            "--insecure-key-perms to use it anyway)",
                            path, (unsigned)(st.st_mode & 07777), path);
    return CKPT_OK;
}
