//! `audit` reads `/api/connections` a page at a time (RabbitMQ 3.6 and
//! later page it: `?page=N&page_size=M` answers `{items, page_count,
//! total_count, …}`), so a broker with many connections is read whole
//! instead of failing at the body cap. A scripted management API on
//! 127.0.0.1:0 answers three pages of one connection each.

mod common;
use common::run::json_of;

use std::io::{Read, Write};
use std::thread;
use std::time::Duration;

fn paged_api() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&req)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let page = line
                    .split("page=")
                    .nth(1)
                    .and_then(|r| r.split(['&', ' ']).next())
                    .and_then(|n| n.parse::<u32>().ok());
                let body = if line.starts_with("GET /api/overview") {
                    r#"{"rabbitmq_version":"3.10.8","product_name":"RabbitMQ"}"#.to_string()
                } else if line.starts_with("GET /api/nodes") {
                    "[]".to_string()
                } else if let Some(n) = page {
                    format!(
                        r#"{{"filtered_count":3,"item_count":1,"items":[{{"name":"127.0.0.1:{p} -> 127.0.0.1:5672","timeout":60,"state":"running","peer_host":"127.0.0.1","peer_port":{p},"client_properties":{{"product":"pika","version":"1.3.2"}}}}],"page":{n},"page_count":3,"page_size":1,"total_count":3}}"#,
                        p = 40000 + n
                    )
                } else {
                    // The first request (heartbeats only) is not paged.
                    r#"[{"timeout":60},{"timeout":60},{"timeout":60}]"#.to_string()
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(head.as_bytes());
                let _ = c.write_all(body.as_bytes());
            });
        }
    });
    format!("http://guest:guest@127.0.0.1:{port}")
}

#[test]
fn every_page_of_connections_is_read() {
    let out = common::amqpdoctor()
        .args(["audit", "--management", &paged_api(), "--format", "json"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let v = json_of(&out);
    let conns = v["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 3, "{v}");
    let peers: Vec<&str> = conns.iter().filter_map(|c| c["peer"].as_str()).collect();
    assert_eq!(
        peers,
        ["127.0.0.1:40001", "127.0.0.1:40002", "127.0.0.1:40003"],
        "{v}"
    );
}
