//! The container logs to fetch, noted while the pod list streams past and kept in a temporary
//! file, not in memory: a 150,000-pod cluster has about 300,000 of them. The cluster's task
//! loop reads them back a few at a time as it spawns log fetches.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use serde_json::Value;

use crate::cluster::list::Observer;
use crate::cluster::logs::{self, LogJob};
use crate::cluster::pods::PodInfo;

/// Notes the logs of each pod as its list streams past, one JSON line per log.
pub struct LogJobWriter {
    file: BufWriter<File>,
    /// Bytes and jobs after each observed pod, to roll back to when a list restarts.
    ends: Vec<(u64, u64)>,
    bytes: u64,
    jobs: u64,
    /// Which namespaces' logs are wanted.
    wants: Box<dyn Fn(&str) -> bool + Send>,
    /// The first write error; the jobs cannot be trusted after it.
    error: Option<io::Error>,
}

/// The noted logs, ready to be read back.
#[derive(Debug)]
pub struct LogJobFile {
    file: File,
    /// How many logs it holds.
    pub jobs: u64,
}

impl LogJobWriter {
    /// A writer on `file` keeping the logs of the namespaces `wants` accepts.
    pub fn new(file: File, wants: impl Fn(&str) -> bool + Send + 'static) -> Self {
        LogJobWriter {
            file: BufWriter::with_capacity(64 * 1024, file),
            ends: Vec::new(),
            bytes: 0,
            jobs: 0,
            wants: Box::new(wants),
            error: None,
        }
    }

    /// The file rewound for reading, or the first write error.
    pub fn finish(self) -> io::Result<LogJobFile> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.set_len(self.bytes)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(LogJobFile {
            file,
            jobs: self.jobs,
        })
    }

    fn write(&mut self, job: &LogJob) -> io::Result<()> {
        let line = serde_json::to_vec(&(&job.namespace, &job.pod, &job.container, job.previous))
            .map_err(io::Error::other)?;
        self.file.write_all(&line)?;
        self.file.write_all(b"\n")?;
        self.bytes += line.len() as u64 + 1;
        self.jobs += 1;
        Ok(())
    }
}

impl Observer for LogJobWriter {
    fn observe(&mut self, object: &Value) {
        if self.error.is_none()
            && let Some(pod) = PodInfo::from_object(object)
            && (self.wants)(&pod.namespace)
        {
            for job in logs::jobs(&pod) {
                if let Err(e) = self.write(&job) {
                    self.error = Some(e);
                    break;
                }
            }
        }
        self.ends.push((self.bytes, self.jobs));
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn truncate(&mut self, len: usize) {
        if len >= self.ends.len() {
            return;
        }
        self.ends.truncate(len);
        let (keep, jobs) = self.ends.last().copied().unwrap_or((0, 0));
        // Later writes go after `keep`; `finish` cuts the file there.
        let rolled_back = self.file.flush().and_then(|()| {
            let file = self.file.get_mut();
            file.set_len(keep)?;
            file.seek(SeekFrom::Start(keep)).map(drop)
        });
        if let Err(e) = rolled_back {
            self.error.get_or_insert(e);
        }
        (self.bytes, self.jobs) = (keep, jobs);
    }
}

/// Reads the noted logs back in order.
pub struct LogJobReader {
    lines: io::Lines<BufReader<File>>,
}

impl LogJobReader {
    /// Starts reading `file`.
    pub fn new(file: LogJobFile) -> Self {
        LogJobReader {
            lines: BufReader::new(file.file).lines(),
        }
    }
}

impl Iterator for LogJobReader {
    type Item = LogJob;

    fn next(&mut self) -> Option<LogJob> {
        // Lines are written by this process; one that does not read back ends the list.
        let line = self.lines.next()?.ok()?;
        let (namespace, pod, container, previous) = serde_json::from_str(&line).ok()?;
        Some(LogJob {
            namespace,
            pod,
            container,
            previous,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(ns: &str, name: &str, restarts: u64) -> Value {
        json!({
            "metadata": {"namespace": ns, "name": name},
            "spec": {"containers": [{"name": "app"}, {"name": "side\tcar\n"}]},
            "status": {"containerStatuses": [
                {"name": "app", "restartCount": restarts, "state": {"running": {}}},
                {"name": "side\tcar\n", "restartCount": 0, "state": {"running": {}}}
            ]}
        })
    }

    fn labels(file: LogJobFile) -> Vec<String> {
        LogJobReader::new(file).map(|j| j.label()).collect()
    }

    #[test]
    fn logs_are_noted_on_disk_and_read_back_in_order() {
        let mut w = LogJobWriter::new(tempfile::tempfile().expect("tempfile"), |ns| ns != "skip");
        w.observe(&pod("a", "p1", 2));
        w.observe(&pod("skip", "p2", 0));
        w.observe(&json!({"metadata": {"name": "no-namespace"}}));
        w.observe(&pod("b", "p3", 0));
        assert_eq!(w.len(), 4);
        let file = w.finish().expect("finish");
        assert_eq!(file.jobs, 5);
        assert_eq!(
            labels(file),
            [
                "a/p1/app",
                "a/p1/app (previous)",
                "a/p1/side\tcar\n",
                "b/p3/app",
                "b/p3/side\tcar\n"
            ]
        );
    }

    #[test]
    fn a_restarted_list_rolls_the_noted_logs_back() {
        let mut w = LogJobWriter::new(tempfile::tempfile().expect("tempfile"), |_| true);
        w.observe(&pod("a", "kept", 0));
        let mark = w.len();
        w.observe(&pod("a", "dropped-1", 1));
        w.observe(&pod("a", "dropped-2", 0));
        w.truncate(mark);
        w.observe(&pod("a", "again", 0));
        let file = w.finish().expect("finish");
        assert_eq!(file.jobs, 4);
        assert_eq!(
            labels(file),
            [
                "a/kept/app",
                "a/kept/side\tcar\n",
                "a/again/app",
                "a/again/side\tcar\n"
            ]
        );
    }
}
