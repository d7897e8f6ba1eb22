// Clang thread-safety annotations (STYLE.md item 9; LevelDB port/thread_annotations.h). They say
// which lock guards a member or must be held by a function; clang with -Wthread-safety checks
// them where the mutex type is annotated, other compilers ignore them. In schema/ because it is
// the lowest layer and every layer has locked members.
#pragma once

#if defined(__clang__)
#define TINK_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TINK_THREAD_ANNOTATION(x)
#endif

#ifndef GUARDED_BY
#define GUARDED_BY(x) TINK_THREAD_ANNOTATION(guarded_by(x))
#endif
#ifndef PT_GUARDED_BY
#define PT_GUARDED_BY(x) TINK_THREAD_ANNOTATION(pt_guarded_by(x))
#endif
#ifndef REQUIRES
#define REQUIRES(...) TINK_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#endif
#ifndef EXCLUDES
#define EXCLUDES(...) TINK_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#endif
#ifndef ACQUIRED_BEFORE
#define ACQUIRED_BEFORE(...) TINK_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#endif
