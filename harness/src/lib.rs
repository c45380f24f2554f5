//! tcpcheck's harness: drives real TCP stacks with packets and compares what they do with the
//! reference model in `tcpcheck-model`.

pub mod decode;
