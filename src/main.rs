fn main() {
    std::process::exit(adminsh::run(std::env::args_os()));
}
