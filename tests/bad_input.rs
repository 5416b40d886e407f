//! Bad input from the real file system and environment: huge files, endless devices and pipes, bytes
//! that are not UTF-8, values with control characters.

use mse_auth::os::{Env, Fs, PROFILE_FILE_LIMIT, TOKEN_FILE_LIMIT};
use mse_auth::{CredentialsProvider, EnvironmentProvider, ErrorKind};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A file in a fresh directory under the target's temp dir, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &[u8]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("mse-auth-bad-input-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn a_50_mb_file_is_refused_quickly() {
    let file = TempFile::new("credentials", b"[default]\n");
    // 50 MB, sparse: the size is what matters.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap()
        .set_len(50 << 20)
        .unwrap();
    let started = Instant::now();
    let err = Fs::real()
        .read_to_string_limited(&file.0, PROFILE_FILE_LIMIT)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    assert_eq!(err.to_string(), "it is larger than 1024 KiB");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_file_at_the_limit_is_read_and_one_byte_more_is_not() {
    let file = TempFile::new("token", &vec![b't'; TOKEN_FILE_LIMIT as usize]);
    let text = Fs::real()
        .read_to_string_limited(&file.0, TOKEN_FILE_LIMIT)
        .unwrap();
    assert_eq!(text.len() as u64, TOKEN_FILE_LIMIT);
    let file = TempFile::new("token2", &vec![b't'; TOKEN_FILE_LIMIT as usize + 1]);
    let err = Fs::real()
        .read_to_string_limited(&file.0, TOKEN_FILE_LIMIT)
        .unwrap_err();
    assert_eq!(err.to_string(), "it is larger than 64 KiB");
}

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_after_the_limit() {
    let path = std::path::Path::new("/dev/zero");
    assert!(
        path.exists(),
        "this test needs /dev/zero, which every Unix has"
    );
    let err = Fs::real()
        .read_to_string_limited(path, TOKEN_FILE_LIMIT)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    assert_eq!(err.to_string(), "it is larger than 64 KiB");
}

#[cfg(unix)]
#[test]
fn an_endless_pipe_is_refused_after_the_limit() {
    let dir = TempFile::new("fifo-dir-marker", b"");
    let fifo = dir.0.with_file_name("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("this test needs mkfifo (coreutils)");
    assert!(status.success(), "mkfifo failed");
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .unwrap();
        let chunk = [b'x'; 4096];
        // Writes until the reader goes away (a broken pipe), bounded in case it never does.
        for _ in 0..100_000 {
            if pipe.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let err = Fs::real()
        .read_to_string_limited(&fifo, PROFILE_FILE_LIMIT)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    writer.join().unwrap();
}

#[test]
fn a_non_utf8_file_names_the_line() {
    let file = TempFile::new("config.json", b"{\n  \"profiles\": [\n \xff ]\n}");
    let err = Fs::real()
        .read_to_string_limited(&file.0, PROFILE_FILE_LIMIT)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(err.to_string(), "it is not UTF-8 text (line 3)");
}

#[test]
fn a_missing_file_is_not_found() {
    let err = Fs::real()
        .read_to_string_limited("/nonexistent/mse-auth/credentials", PROFILE_FILE_LIMIT)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
}

#[tokio::test]
async fn environment_credentials_with_control_characters_stop_with_the_variable_named() {
    let env = Env::from_pairs([
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tExample"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "sentinel\u{0}\u{1b}[31m"),
    ]);
    let err = EnvironmentProvider::with_env(env)
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "env: invalid configuration: ALIBABA_CLOUD_ACCESS_KEY_SECRET holds a control character (a \
         tab, a newline or another): remove it"
    );
    assert!(!format!("{err:?}").contains("sentinel"));
}
