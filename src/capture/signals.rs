//! Forwarding the signals `record` receives to its child, once each.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signals `record` passes on to the target.
pub const FORWARDED: &[(&str, libc::c_int)] = &[
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGTERM", libc::SIGTERM),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGWINCH", libc::SIGWINCH),
    ("SIGALRM", libc::SIGALRM),
];

/// The write end of the pipe the handler reports to (-1 before `forward_to`).
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// The number of a signal named `SIGUSR2`, `usr2` or `12`, among [`FORWARDED`].
pub fn number(name: &str) -> Option<libc::c_int> {
    let upper = name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    FORWARDED
        .iter()
        .find(|(n, num)| *n == full || name.trim().parse::<libc::c_int>().ok() == Some(*num))
        .map(|&(_, num)| num)
}

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // Async-signal-safe: read si_code, write two bytes.
    let from_kernel = if info.is_null() {
        0u8
    } else {
        // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO.
        u8::from(unsafe { (*info).si_code } > 0)
    };
    let msg = [sig as u8, from_kernel];
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) on a valid fd with a 2-byte buffer is async-signal-safe.
        unsafe {
            libc::write(fd, msg.as_ptr().cast(), 2);
        }
    }
}

/// Install handlers for [`FORWARDED`] and a thread that sends each signal to `child`.
///
/// A signal the kernel generated (Ctrl-C, Ctrl-\, a hang-up of the terminal) already went to
/// the whole foreground process group, the child included: it is forwarded only when the
/// child left our process group, so the target never sees one Ctrl-C twice. A signal from
/// `kill` (or systemd, or a supervisor) is always forwarded.
pub fn forward_to(child: libc::pid_t) -> std::io::Result<()> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds has room for the two descriptors pipe() writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let (read_fd, write_fd) = (fds[0], fds[1]);
    PIPE_WRITE.store(write_fd, Ordering::Relaxed);
    std::thread::Builder::new()
        .name("leakhunt-signals".into())
        .spawn(move || relay(read_fd, child))?;
    for &(_, sig) in FORWARDED {
        // SAFETY: a zeroed sigaction with our handler, SA_SIGINFO and an empty mask.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_signal as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            if libc::sigaction(sig, &act, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

fn relay(read_fd: libc::c_int, child: libc::pid_t) {
    let mut msg = [0u8; 2];
    loop {
        // SAFETY: reading into a 2-byte buffer from our own pipe.
        let n = unsafe { libc::read(read_fd, msg.as_mut_ptr().cast(), 2) };
        if n == 2 {
            let (sig, from_kernel) = (libc::c_int::from(msg[0]), msg[1] != 0);
            // SAFETY: getpgid/kill take plain integers.
            let same_group = unsafe { libc::getpgid(child) == libc::getpgid(0) };
            if !from_kernel || !same_group {
                unsafe {
                    libc::kill(child, sig);
                }
            }
        } else if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        } else {
            return;
        }
    }
}

/// The number of a signal that killed a process, as a shell reports it (128 + signal).
pub fn exit_code_for(sig: libc::c_int) -> i32 {
    128 + sig
}
