/** libscap's portable flag values (PPM_*), as they appear in event parameters. */

export const PPM_O_RDONLY = 1 << 0;
export const PPM_O_WRONLY = 1 << 1;
export const PPM_O_RDWR = PPM_O_RDONLY | PPM_O_WRONLY;
export const PPM_O_CREAT = 1 << 2;
export const PPM_O_APPEND = 1 << 3;
export const PPM_O_DSYNC = 1 << 4;
export const PPM_O_EXCL = 1 << 5;
export const PPM_O_NONBLOCK = 1 << 6;
export const PPM_O_SYNC = 1 << 7;
export const PPM_O_TRUNC = 1 << 8;
export const PPM_O_DIRECT = 1 << 9;
export const PPM_O_DIRECTORY = 1 << 10;
export const PPM_O_LARGEFILE = 1 << 11;
export const PPM_O_CLOEXEC = 1 << 12;
export const PPM_O_TMPFILE = 1 << 13;
export const PPM_O_F_CREATED = 1 << 14;

export const PPM_CL_CLONE_FILES = 1 << 0;
export const PPM_CL_CLONE_FS = 1 << 1;
export const PPM_CL_CLONE_THREAD = 1 << 11;
export const PPM_CL_CLONE_NEWPID = 1 << 9;
export const PPM_CL_CHILD_IN_PIDNS = 1 << 13;

/** execve exit `flags` (PPM_EXE_*) */
export const PPM_EXE_WRITABLE = 1 << 0;
export const PPM_EXE_UPPER_LAYER = 1 << 1;
export const PPM_EXE_FROM_MEMFD = 1 << 2;
export const PPM_EXE_LOWER_LAYER = 1 << 3;

/** socket families (PPM_AF_*) */
export const PPM_AF_UNIX = 1;
export const PPM_AF_INET = 2;
export const PPM_AF_INET6 = 10;
