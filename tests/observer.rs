//! The socket observer against small fake peers on 127.0.0.1:0: it must
//! tell RST from FIN without reading, and must not change what the
//! application sees (its next write still fails with ECONNRESET, not EPIPE).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use amqpdoctor::observe::{tcp_info, Observer};
use amqpdoctor::timeline::TcpEnd;

/// A connected pair: (our client side, the accepted server side).
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

fn observe(client: &TcpStream) -> Observer {
    Observer::watch(client.as_fd().try_clone_to_owned().unwrap())
}

/// Wait (bounded) for the observer's result by stopping it after a grace period.
fn result_after(obs: Observer, grace: Duration) -> Option<amqpdoctor::observe::Observation> {
    std::thread::sleep(grace);
    obs.stop()
}

#[test]
fn reset_is_seen_and_the_application_still_gets_econnreset() {
    let (mut client, server) = pair();
    // Unread bytes in the client's buffer, like heartbeats nobody reads.
    (&server).write_all(&[8, 0, 0, 0, 0, 0, 0, 0xCE]).unwrap();
    let obs = observe(&client);
    let before = Instant::now();
    // SO_LINGER 0 makes close() send RST, as RabbitMQ's listener does.
    nix::sys::socket::setsockopt(
        &server,
        nix::sys::socket::sockopt::Linger,
        &libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    )
    .unwrap();
    drop(server);
    let seen = result_after(obs, Duration::from_millis(1000)).expect("observer saw the RST");
    assert_eq!(seen.how, TcpEnd::Reset);
    assert_eq!(seen.info.state, 7, "TCP state CLOSE");
    assert!(seen.at >= before);
    let err = client.write_all(b"publish").unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::ECONNRESET),
        "observer must not consume the error: {err}"
    );
    let err = client.write_all(b"again").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPIPE));
}

#[test]
fn orderly_close_is_seen_as_fin_and_the_next_write_is_accepted() {
    let (mut client, server) = pair();
    let obs = observe(&client);
    drop(server); // plain close: FIN
    let seen = result_after(obs, Duration::from_millis(1000)).expect("observer saw the FIN");
    assert_eq!(seen.how, TcpEnd::Fin);
    assert_eq!(tcp_info(&client).unwrap().state, 8, "CLOSE_WAIT");
    // The kernel accepts the write after a FIN; the data is lost.
    client.write_all(b"lost publish").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).unwrap(), 0, "EOF");
}

#[test]
fn a_live_connection_does_not_fire() {
    let (client, server) = pair();
    (&server)
        .write_all(b"heartbeat-ish data the app never reads")
        .unwrap();
    let obs = observe(&client);
    assert!(result_after(obs, Duration::from_millis(300)).is_none());
    drop(server);
}
