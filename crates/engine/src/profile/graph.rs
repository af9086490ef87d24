//! The order related scope imposes on a profile's objects, and the cycles it must not have.

use super::Profile;

/// The objects a given object's scope is derived from: the declaring objects of the rules
/// that bring it in.
pub fn scope_sources<'a>(profile: &'a Profile, object: &str) -> Vec<&'a str> {
    let mut sources = Vec::new();
    for declaring in &profile.objects {
        let brings_it = declaring.parents.iter().any(|r| r.target.eq_ignore_ascii_case(object))
            || declaring.children.iter().any(|r| r.child.eq_ignore_ascii_case(object));
        if brings_it && !sources.contains(&declaring.name.as_str()) {
            sources.push(declaring.name.as_str());
        }
    }
    sources
}

/// The profile's object names ordered so that every object comes after the objects its
/// scope is derived from; ties keep file order. On a cycle, the objects that form it, the
/// first repeated at the end.
pub fn dependency_order(profile: &Profile) -> Result<Vec<String>, Vec<String>> {
    let names: Vec<&str> = profile.objects.iter().map(|o| o.name.as_str()).collect();
    let sources: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            scope_sources(profile, n)
                .into_iter()
                .filter_map(|s| names.iter().position(|m| m.eq_ignore_ascii_case(s)))
                .collect()
        })
        .collect();

    // Repeatedly take the first object whose sources are all placed.
    let mut placed = vec![false; names.len()];
    let mut order = Vec::with_capacity(names.len());
    while order.len() < names.len() {
        let next = (0..names.len())
            .find(|&i| !placed[i] && sources[i].iter().all(|&s| placed[s] && s != i));
        match next {
            Some(i) => {
                placed[i] = true;
                order.push(names[i].to_string());
            }
            None => return Err(find_cycle(&names, &sources, &placed)),
        }
    }
    Ok(order)
}

/// Walks source edges among the unplaced objects until one repeats.
fn find_cycle(names: &[&str], sources: &[Vec<usize>], placed: &[bool]) -> Vec<String> {
    let Some(start) = (0..names.len()).find(|&i| !placed[i]) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut current = start;
    loop {
        // Every unplaced object has an unplaced source, or it would have been placed.
        let Some(&next) = sources[current].iter().find(|&&s| !placed[s]) else {
            return path.iter().map(|&i| names[i].to_string()).collect();
        };
        if let Some(pos) = path.iter().position(|&p| p == next) {
            // Report the cycle in the direction records flow: source before dependant.
            let mut cycle: Vec<String> =
                path[pos..].iter().rev().map(|&i| names[i].to_string()).collect();
            // Start at the object declared first, so the message reads in file order.
            let first = path[pos..].iter().min().copied().unwrap_or(next);
            let at = cycle.iter().position(|n| n == names[first]).unwrap_or(0);
            cycle.rotate_left(at);
            cycle.push(cycle[0].clone());
            return cycle;
        }
        path.push(next);
        current = next;
    }
}
