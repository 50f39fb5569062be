//! Injection by leakhunt's own ptrace calls (Linux x86-64): stop every thread, save each
//! one's registers (general, and the whole extended state at the size the kernel reports),
//! call C functions in the target by setting registers, and put every register back,
//! checked, before the thread runs its own code again.
//!
//! A thread stopped inside a blocking system call resumes it: the saved `orig_rax` and the
//! kernel's restart code make the call go on as if nothing happened. A debugger that cannot
//! write back the extended state (gdb 13 on CPUs whose state is larger than it knows) leaves
//! the interrupted call's `-ERESTART...` code in `rax`, which Python then raises as `OSError:
//! [Errno 514]`; this module writes back exactly the buffer the kernel gave it.

use super::elf;
use super::{Fail, Route};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// The functions called in the target.
struct Symbols {
    check: u64,
    ensure: u64,
    release: u64,
    run: u64,
    pending: u64,
    mmap: u64,
    munmap: u64,
}

const PY_NAMES: [&str; 5] = [
    "PyGILState_Check",
    "PyGILState_Ensure",
    "PyGILState_Release",
    "PyRun_SimpleString",
    "Py_AddPendingCall",
];

/// Find the functions before anything is touched: libpython (or the executable, for a
/// static build or an embedding program) and the C library.
fn symbols(pid: i32) -> Result<Symbols, Fail> {
    let maps = elf::mappings(pid).map_err(Fail::Other)?;
    let files = elf::files(&maps);
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut py: Vec<&String> = files
        .iter()
        .filter(|p| base(p).starts_with("libpython3"))
        .collect();
    py.extend(files.iter().filter(|p| **p == exe));
    let mut c: Vec<&String> = files
        .iter()
        .filter(|p| base(p).starts_with("libc.so") || base(p).starts_with("libc-"))
        .collect();
    c.extend(files.iter().filter(|p| **p == exe));
    let mut found_py = vec![None; PY_NAMES.len()];
    for f in &py {
        let got = elf::lookup(pid, &maps, f, &PY_NAMES);
        if got.iter().filter(|a| a.is_some()).count() > found_py.iter().flatten().count() {
            found_py = got;
        }
    }
    let mut found_c = vec![None; 2];
    for f in &c {
        found_c = elf::lookup(pid, &maps, f, &["mmap", "munmap"]);
        if found_c.iter().all(Option::is_some) {
            break;
        }
    }
    let missing: Vec<&str> = PY_NAMES
        .iter()
        .zip(&found_py)
        .chain(["mmap", "munmap"].iter().zip(&found_c))
        .filter(|(_, a)| a.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(Fail::Other(format!(
            "no symbol for {} in the interpreter's files (a stripped or static build?)",
            missing.join(", ")
        )));
    }
    let a = |v: &[Option<u64>], i: usize| v[i].unwrap_or(0);
    Ok(Symbols {
        check: a(&found_py, 0),
        ensure: a(&found_py, 1),
        release: a(&found_py, 2),
        run: a(&found_py, 3),
        pending: a(&found_py, 4),
        mmap: a(&found_c, 0),
        munmap: a(&found_c, 1),
    })
}

/// Run `code` (a C string of Python source) in process `pid`: now, on a thread blocked in
/// the kernel outside any lock (the main thread first), when no thread holds the GIL; else
/// queued for the main thread's next safe point.
pub fn inject(pid: i32, code: &str, timeout: Duration) -> Result<Route, Fail> {
    let syms = symbols(pid)?;
    let mut s = Session::attach(pid)?;
    if !s.threads.iter().any(|t| t.tid == pid) {
        return Err(Fail::Other(format!(
            "the main thread of process {pid} could not be stopped"
        )));
    }
    let quick = Limit::Abandon(Duration::from_secs(10));
    let mut held = false;
    for i in 0..s.threads.len() {
        held |= s.call(i, syms.check, &[], quick)? as u32 != 0;
    }
    // The dump runs now only on a thread that waits in the kernel for something other than
    // a lock: one stopped inside the interpreter's own GIL wait (a futex) would enter it
    // again and wedge the process. The main thread is preferred; another one only with a
    // megabyte of stack left (a C library's thread may have a small one, and the dump
    // imports and runs Python on it).
    let ranges = stack_ranges(pid);
    let runner = (!held)
        .then(|| {
            let waits = |t: &Thread| waits_outside_locks(&t.regs);
            let roomy = |t: &Thread| stack_room(&ranges, t.regs.rsp) >= 1 << 20;
            let main = s.threads.iter().position(|t| t.tid == pid && waits(t));
            main.or_else(|| s.threads.iter().position(|t| waits(t) && roomy(t)))
        })
        .flatten();
    let keep = runner.unwrap_or_else(|| s.threads.iter().position(|t| t.tid == pid).unwrap_or(0));
    // the others go on: nothing below waits for a thread that is stopped
    s.release_all_but(keep)?;
    let me = 0;
    let size = (code.len() as u64 + 1).div_ceil(4096) * 4096;
    let buf = s.call(me, syms.mmap, &[0, size, 3, 0x22, u64::MAX, 0], quick)?;
    if buf as i64 <= 0 || buf > u64::MAX - 4096 {
        return Err(Fail::Other(format!(
            "mmap in process {pid} failed ({})",
            buf as i64
        )));
    }
    let mut text = code.as_bytes().to_vec();
    text.push(0);
    s.write(buf, &text)?;
    let route = if runner.is_none() {
        let rc = s.call(me, syms.pending, &[syms.run, buf], quick)?;
        if rc as i32 != 0 {
            let _ = s.call(me, syms.munmap, &[buf, size], quick);
            return Err(Fail::Other(
                "the interpreter's queue of pending calls is full".into(),
            ));
        }
        // the page stays: the main thread reads the code when it runs the queued call
        Route::Pending
    } else {
        let state = s.call(me, syms.ensure, &[], Limit::Abandon(timeout))?;
        s.call(me, syms.run, &[buf], Limit::Wait(timeout))?;
        s.call(me, syms.release, &[state & 0xffff_ffff], quick)?;
        s.call(me, syms.munmap, &[buf, size], quick)?;
        Route::Direct
    };
    s.finish()?;
    Ok(route)
}

/// Every mapping of the target as `(start, end)`, in address order.
fn stack_ranges(pid: i32) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (a, b) = l.split_whitespace().next()?.split_once('-')?;
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            ))
        })
        .collect()
}

/// Bytes of stack below `sp` in the mapping that holds it (0 when none does).
fn stack_room(ranges: &[(u64, u64)], sp: u64) -> u64 {
    ranges
        .iter()
        .find(|(a, b)| *a <= sp && sp < *b)
        .map_or(0, |(a, _)| sp - a)
}

/// Whether a stopped thread was blocked in a system call other than a futex wait (a lock,
/// a condition variable: possibly the GIL's).
fn waits_outside_locks(r: &libc::user_regs_struct) -> bool {
    let nr = r.orig_rax as i64;
    nr >= 0 && nr != libc::SYS_futex && nr != libc::SYS_futex_waitv
}

/// How long a call may take: abandoned after the limit (the thread is stopped and put back
/// as it was; only for calls that change nothing until they return), or waited for.
#[derive(Clone, Copy)]
enum Limit {
    Abandon(Duration),
    Wait(Duration),
}

const NT_X86_XSTATE: libc::c_int = 0x202;
const PTRACE_EVENT_STOP: i32 = 128;

/// The floating-point and vector state of a thread.
enum Extended {
    /// The XSAVE area, exactly as long as the kernel's.
    Xsave(Vec<u8>),
    /// The legacy FXSAVE area, where the kernel has no XSAVE regset.
    Fx(Box<libc::user_fpregs_struct>),
}

/// A stopped thread and the state to give back to it.
struct Thread {
    tid: i32,
    regs: libc::user_regs_struct,
    extended: Extended,
}

/// Every thread of the target, stopped; dropped, each is put back and let go.
struct Session {
    pid: i32,
    threads: Vec<Thread>,
    mem: File,
    /// leakhunt's own signal mask before the session (SIGINT etc. wait until the target
    /// is whole again: leakhunt dying mid-call would leave a thread returning nowhere)
    old_mask: libc::sigset_t,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn pt(req: libc::c_uint, tid: i32, addr: usize, data: usize) -> Result<(), i32> {
    // SAFETY: ptrace with integer or valid-pointer arguments; the kernel checks them.
    let rc = unsafe {
        libc::ptrace(
            req,
            tid,
            addr as *mut libc::c_void,
            data as *mut libc::c_void,
        )
    };
    if rc == -1 { Err(errno()) } else { Ok(()) }
}

fn strerror(e: i32) -> String {
    std::io::Error::from_raw_os_error(e).to_string()
}

/// A wait result for one thread.
enum Stop {
    /// Stopped by our interrupt (or a group stop)
    Event,
    /// About to receive this signal
    Signal(i32),
    /// The thread is gone
    Gone,
}

/// Wait (polling, so a stuck thread cannot hang leakhunt) for `tid` to stop.
fn wait(tid: i32, deadline: Option<Instant>) -> Result<Option<Stop>, Fail> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status int we own.
        let rc = unsafe { libc::waitpid(tid, &mut status, libc::__WALL | libc::WNOHANG) };
        if rc == tid {
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                return Ok(Some(Stop::Gone));
            }
            if libc::WIFSTOPPED(status) {
                if status >> 16 == PTRACE_EVENT_STOP {
                    return Ok(Some(Stop::Event));
                }
                return Ok(Some(Stop::Signal(libc::WSTOPSIG(status))));
            }
            continue;
        }
        if rc == -1 {
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            if e == libc::ECHILD {
                return Ok(Some(Stop::Gone));
            }
            return Err(Fail::Other(format!("waitpid {tid}: {}", strerror(e))));
        }
        if deadline.is_some_and(|d| Instant::now() > d) {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn get_regs(tid: i32) -> Result<libc::user_regs_struct, Fail> {
    // SAFETY: all-integer C struct; zero is a valid value.
    let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    pt(libc::PTRACE_GETREGS, tid, 0, &mut r as *mut _ as usize).map_err(|e| {
        Fail::Other(format!(
            "cannot read the registers of thread {tid}: {}",
            strerror(e)
        ))
    })?;
    Ok(r)
}

fn set_regs(tid: i32, r: &libc::user_regs_struct) -> Result<(), Fail> {
    pt(libc::PTRACE_SETREGS, tid, 0, r as *const _ as usize).map_err(|e| {
        Fail::Other(format!(
            "cannot write the registers of thread {tid}: {}",
            strerror(e)
        ))
    })
}

fn get_extended(tid: i32) -> Result<Extended, Fail> {
    // larger than any XSAVE area; the kernel shortens iov_len to its own size
    let mut buf = vec![0u8; 1 << 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    match pt(
        libc::PTRACE_GETREGSET,
        tid,
        NT_X86_XSTATE as usize,
        &mut iov as *mut _ as usize,
    ) {
        Ok(()) => {
            buf.truncate(iov.iov_len);
            Ok(Extended::Xsave(buf))
        }
        Err(libc::EINVAL | libc::ENODEV | libc::EIO) => {
            // SAFETY: all-integer C struct; zero is a valid value.
            let mut fx: Box<libc::user_fpregs_struct> = Box::new(unsafe { std::mem::zeroed() });
            pt(libc::PTRACE_GETFPREGS, tid, 0, &mut *fx as *mut _ as usize).map_err(|e| {
                Fail::Other(format!(
                    "cannot read the floating-point state of thread {tid}: {}",
                    strerror(e)
                ))
            })?;
            Ok(Extended::Fx(fx))
        }
        Err(e) => Err(Fail::Other(format!(
            "cannot read the extended state of thread {tid}: {}",
            strerror(e)
        ))),
    }
}

fn set_extended(tid: i32, x: &Extended) -> Result<(), Fail> {
    let rc = match x {
        Extended::Xsave(buf) => {
            let iov = libc::iovec {
                iov_base: buf.as_ptr() as *mut libc::c_void,
                iov_len: buf.len(),
            };
            pt(
                libc::PTRACE_SETREGSET,
                tid,
                NT_X86_XSTATE as usize,
                &iov as *const _ as usize,
            )
        }
        Extended::Fx(fx) => pt(libc::PTRACE_SETFPREGS, tid, 0, &**fx as *const _ as usize),
    };
    rc.map_err(|e| {
        Fail::Other(format!(
            "cannot write back the extended state of thread {tid}: {}",
            strerror(e)
        ))
    })
}

fn same_regs(a: &libc::user_regs_struct, b: &libc::user_regs_struct) -> bool {
    let words = |r: &libc::user_regs_struct| -> [u64; 27] {
        [
            r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8, r.rax, r.rcx,
            r.rdx, r.rsi, r.rdi, r.orig_rax, r.rip, r.cs, r.eflags, r.rsp, r.ss, r.fs_base,
            r.gs_base, r.ds, r.es, r.fs, r.gs,
        ]
    };
    words(a) == words(b)
}

fn task_ids(pid: i32) -> Vec<i32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

impl Session {
    fn attach(pid: i32) -> Result<Session, Fail> {
        let mem = File::options()
            .read(true)
            .write(true)
            .open(format!("/proc/{pid}/mem"))
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EACCES | libc::EPERM) => Fail::NotPermitted,
                Some(libc::ENOENT | libc::ESRCH) => Fail::Gone,
                _ => Fail::Other(format!("cannot open /proc/{pid}/mem: {e}")),
            })?;
        // SAFETY: sigset operations on a local set; the mask applies to this thread only.
        let old_mask = unsafe {
            let mut block: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut block);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::sigaddset(&mut block, s);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
            old
        };
        let mut s = Session {
            pid,
            threads: Vec::new(),
            mem,
            old_mask,
        };
        let mut seized: Vec<i32> = Vec::new();
        // threads started while we stop the others are found on the next pass
        for _ in 0..20 {
            let fresh: Vec<i32> = task_ids(pid)
                .into_iter()
                .filter(|t| !seized.contains(t))
                .collect();
            if fresh.is_empty() {
                break;
            }
            for tid in fresh {
                match pt(libc::PTRACE_SEIZE, tid, 0, 0) {
                    Ok(()) => {}
                    Err(libc::ESRCH) => continue,
                    Err(libc::EPERM) if seized.is_empty() => return Err(Fail::NotPermitted),
                    Err(e) => {
                        return Err(Fail::Other(format!(
                            "cannot trace thread {tid}: {}",
                            strerror(e)
                        )));
                    }
                }
                seized.push(tid);
                if pt(libc::PTRACE_INTERRUPT, tid, 0, 0).is_err() {
                    continue;
                }
                s.stop_seized(tid)?;
            }
        }
        if s.threads.is_empty() {
            return Err(Fail::Gone);
        }
        Ok(s)
    }

    /// Wait for a seized thread's interrupt stop (delivering any signal that came first),
    /// then save its state.
    fn stop_seized(&mut self, tid: i32) -> Result<(), Fail> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match wait(tid, Some(deadline))? {
                Some(Stop::Event) => break,
                Some(Stop::Signal(sig)) => {
                    let _ = pt(libc::PTRACE_CONT, tid, 0, sig as usize);
                }
                Some(Stop::Gone) => return Ok(()),
                None => {
                    // left traced but running: the tracer's exit lets it go
                    let _ = pt(libc::PTRACE_DETACH, tid, 0, 0);
                    return Err(Fail::Other(format!(
                        "thread {tid} did not stop within 5 s (in an uninterruptible wait?)"
                    )));
                }
            }
        }
        let regs = get_regs(tid)?;
        let extended = get_extended(tid)?;
        self.threads.push(Thread {
            tid,
            regs,
            extended,
        });
        Ok(())
    }

    fn write(&self, addr: u64, bytes: &[u8]) -> Result<(), Fail> {
        self.mem.write_all_at(bytes, addr).map_err(|e| {
            Fail::Other(format!(
                "cannot write the target's memory at {addr:#x}: {e}"
            ))
        })
    }

    /// Call `func(args...)` on stopped thread `i`; returns `rax`. The thread stays stopped.
    fn call(&mut self, i: usize, func: u64, args: &[u64], limit: Limit) -> Result<u64, Fail> {
        let t = &self.threads[i];
        let tid = t.tid;
        let mut r = t.regs;
        // below the red zone, 16-byte aligned, then the return address 0: returning stops
        // the thread with SIGSEGV at rip 0 and rsp just above it
        let sp = ((t.regs.rsp - 1024) & !0xf) - 8;
        self.write(sp, &0u64.to_le_bytes())?;
        r.rsp = sp;
        r.rip = func;
        r.rax = 0;
        r.orig_rax = u64::MAX; // not in a system call: no restart while calling
        r.eflags &= !0x400; // the direction flag, clear at every call
        let slots = [
            &mut r.rdi, &mut r.rsi, &mut r.rdx, &mut r.rcx, &mut r.r8, &mut r.r9,
        ];
        for (slot, v) in slots.into_iter().zip(args) {
            *slot = *v;
        }
        set_regs(tid, &r)?;
        pt(libc::PTRACE_CONT, tid, 0, 0)
            .map_err(|e| Fail::Other(format!("cannot resume thread {tid}: {}", strerror(e))))?;
        let started = Instant::now();
        let mut told = false;
        loop {
            let deadline = match limit {
                Limit::Abandon(d) => Some(started + d),
                Limit::Wait(d) if !told => Some(started + d),
                Limit::Wait(_) => None,
            };
            match wait(tid, deadline)? {
                Some(Stop::Signal(libc::SIGSEGV)) => {
                    let now = get_regs(tid)?;
                    if now.rip == 0 && now.rsp == sp + 8 {
                        return Ok(now.rax);
                    }
                    self.put_back(i)?;
                    return Err(Fail::Other(format!(
                        "the call at {func:#x} in thread {tid} faulted at {:#x}",
                        now.rip
                    )));
                }
                Some(Stop::Signal(
                    sig @ (libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP),
                )) => {
                    self.put_back(i)?;
                    return Err(Fail::Other(format!(
                        "the call at {func:#x} in thread {tid} stopped with signal {sig}"
                    )));
                }
                Some(Stop::Signal(sig)) => {
                    // the application's own signal: its handler runs as it would have
                    let _ = pt(libc::PTRACE_CONT, tid, 0, sig as usize);
                }
                Some(Stop::Event) => {
                    let _ = pt(libc::PTRACE_CONT, tid, 0, 0);
                }
                Some(Stop::Gone) => return Err(Fail::Gone),
                None => match limit {
                    Limit::Abandon(d) => {
                        // stop it where it waits and give it back its own state
                        let _ = pt(libc::PTRACE_INTERRUPT, tid, 0, 0);
                        let guard = Some(Instant::now() + Duration::from_secs(5));
                        while let Some(Stop::Signal(sig)) = wait(tid, guard)? {
                            let _ = pt(libc::PTRACE_CONT, tid, 0, sig as usize);
                        }
                        self.put_back(i)?;
                        return Err(Fail::Other(format!(
                            "a call in process {} did not return within {d:?}; it was abandoned \
                             and the thread put back as it was",
                            self.pid
                        )));
                    }
                    Limit::Wait(d) => {
                        eprintln!(
                            "leakhunt: the dump is still running inside process {} after {d:?}; \
                             waiting for it (stopping leakhunt now would crash the target)",
                            self.pid
                        );
                        told = true;
                    }
                },
            }
        }
    }

    /// Restore thread `i`'s own state and check it took.
    fn put_back(&self, i: usize) -> Result<(), Fail> {
        let t = &self.threads[i];
        set_extended(t.tid, &t.extended)?;
        set_regs(t.tid, &t.regs)?;
        let now = get_regs(t.tid)?;
        if !same_regs(&now, &t.regs) {
            return Err(Fail::Other(format!(
                "the registers of thread {} did not read back as written",
                t.tid
            )));
        }
        Ok(())
    }

    /// Put back and let go of thread `i`.
    fn release(&mut self, i: usize) -> Result<(), Fail> {
        let restored = self.put_back(i);
        let tid = self.threads[i].tid;
        let detached = pt(libc::PTRACE_DETACH, tid, 0, 0);
        self.threads.remove(i);
        restored?;
        detached.map_err(|e| Fail::Other(format!("cannot detach thread {tid}: {}", strerror(e))))
    }

    fn release_all_but(&mut self, keep: usize) -> Result<(), Fail> {
        let keep_tid = self.threads[keep].tid;
        let mut first_err = None;
        while let Some(i) = self.threads.iter().position(|t| t.tid != keep_tid) {
            if let Err(e) = self.release(i) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Put back and let go of every thread; the first failure is returned.
    fn finish(mut self) -> Result<(), Fail> {
        let mut first_err = None;
        while !self.threads.is_empty() {
            if let Err(e) = self.release(0) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        while !self.threads.is_empty() {
            let _ = self.release(0);
        }
        // SAFETY: restores the mask saved in attach for this thread.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old_mask, std::ptr::null_mut());
        }
    }
}
