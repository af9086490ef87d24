//! AFL target: arbitrary bytes as the answer to every call of the REST client, through
//! each of its decoders (`salesforce::client::fuzz`); a panic is a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        salesforce::client::fuzz::decode_every_answer(data);
    });
}
