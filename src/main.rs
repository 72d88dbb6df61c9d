/// The stack adminsh runs on: 1 GiB of address space, of which only what is used is ever
/// backed by memory. Rhai prints, compares, copies and frees a script's values recursively, so
/// an array nested 100,000 deep needs far more than the main thread's 8 MiB; with this much, a
/// script runs out of time building such a value before the stack runs out.
const STACK_BYTES: usize = 1 << 30;

fn main() {
    let run = || adminsh::run(std::env::args_os());
    let code = match std::thread::Builder::new()
        .name("adminsh".into())
        .stack_size(STACK_BYTES)
        .spawn(run)
    {
        // A panic has already been reported on stderr (and aborted, in release builds).
        Ok(thread) => thread.join().unwrap_or(101),
        // No room for the thread (a small address-space limit): the main thread's stack.
        Err(_) => run(),
    };
    std::process::exit(code);
}
