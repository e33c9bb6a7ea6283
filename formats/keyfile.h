/*
 * keyfile.h - the permission check a private key file must pass before it
 * is used (as ssh does): a key that group or others can read may already be
 * someone else's, so signing with it proves nothing.
 */
#ifndef CKPT_FORMATS_KEYFILE_H
#define CKPT_FORMATS_KEYFILE_H

#include "../kernels/err.h"

/*
 * CKPT_OK if `path` (followed through links) is accessible to its owner
 * only.  CKPT_E_USAGE naming the mode when group or others have any
 * permission on it; CKPT_E_IO when it cannot be stat'ed.
 */
ckpt_status ckpt_keyfile_check_perms(const char *path, ckpt_err *err);

#endif
