//! The text the character-level examples learn (`char_rnn`, `transformer`),
//! shared so their losses compare on the same data.

/// Our own words, so free to use.
pub const TEXT: &str = "the tape records every op in the order the program ran it. \
the backward sweep reads the tape from the end to the start, and every op \
hands the gradient of its output to its inputs. a recurrent net reads one \
character at a time and keeps a hidden state; unrolled over a window of \
characters it is one long program on one tape, and backpropagation through \
time is the same sweep over the unrolled steps. the same weights are used at \
every step, so their gradients add up over the steps. ";

/// The vocabulary (the text's distinct characters, sorted, so a
/// character's id does not depend on where it first appears) and the text
/// as ids into it.
pub fn encode(text: &str) -> (Vec<char>, Vec<usize>) {
    let mut vocab: Vec<char> = text.chars().collect();
    vocab.sort_unstable();
    vocab.dedup();
    let ids = text.chars().map(|c| id(&vocab, c)).collect();
    (vocab, ids)
}

/// The id of `c`, a character of the text, in `vocab`.
pub fn id(vocab: &[char], c: char) -> usize {
    vocab.binary_search(&c).expect("a character of the text")
}

/// A training window of `seq_len` characters, and the character after
/// each (its target), must fit in the text's `len`: a start in
/// `0..len - seq_len` then reads at most up to the last character.
pub fn check_window(seq_len: usize, len: usize) -> Result<(), String> {
    if seq_len < len {
        Ok(())
    } else {
        Err(format!("--seq-len {seq_len} leaves no window in a text of {len} characters"))
    }
}
