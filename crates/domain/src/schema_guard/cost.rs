//! The work bounds of an acyclic schema: the estimate of the subschema evaluations one value's validation takes ([`Analysis::cost`]).
use super::*;

impl Analysis {
    /// An upper bound of the subschema evaluations validating `instance` against the schema takes
    /// (every subschema that may apply to each part of it, counted once per path that applies
    /// it), or `Err` with the count reached once it passes `limit`.
    pub fn cost(&self, instance: &Value, limit: u64) -> Result<u64, u64> {
        let mut total: u64 = 0;
        let mut steps: u64 = 0;
        let mut stack: Vec<(&Value, Vec<(u32, u64)>)> = vec![(instance, vec![(0, 1)])];
        let exceeded = |total: u64, steps: u64| total > limit || steps > MAX_COST_STEPS;
        while let Some((value, applied)) = stack.pop() {
            // Every subschema applied in place, with how many paths apply it, appliers first.
            let mut count: HashMap<u32, u64> = HashMap::new();
            let mut heap = BinaryHeap::new();
            for (n, c) in applied {
                let e = count.entry(n).or_insert(0);
                if *e == 0 {
                    heap.push(std::cmp::Reverse((self.rank[n as usize], n)));
                }
                *e = e.saturating_add(c);
            }
            let mut closure = Vec::new();
            while let Some(std::cmp::Reverse((_, n))) = heap.pop() {
                let c = count[&n];
                closure.push((n, c));
                total = total.saturating_add(c);
                steps += 1;
                for &m in &self.nodes[n as usize].in_place {
                    let e = count.entry(m).or_insert(0);
                    if *e == 0 {
                        heap.push(std::cmp::Reverse((self.rank[m as usize], m)));
                    }
                    *e = e.saturating_add(c);
                }
            }
            if exceeded(total, steps) {
                return Err(total.max(limit.saturating_add(1)));
            }
            // What applies to the parts of the value.
            match value {
                Value::Object(obj) => {
                    let mut below: HashMap<&str, HashMap<u32, u64>> = HashMap::new();
                    for &(n, c) in &closure {
                        let node = &self.nodes[n as usize];
                        for (name, m) in &node.properties {
                            if let Some((k, _)) = obj.get_key_value(name) {
                                add(below.entry(k.as_str()).or_default(), *m, c);
                                steps += 1;
                            }
                        }
                        for &m in &node.any_property {
                            for k in obj.keys() {
                                add(below.entry(k.as_str()).or_default(), m, c);
                            }
                            steps += obj.len() as u64;
                        }
                        for &m in &node.names {
                            total = total.saturating_add(
                                c.saturating_mul(self.expansion[m as usize])
                                    .saturating_mul(obj.len() as u64),
                            );
                        }
                    }
                    for (k, m) in below {
                        stack.push((&obj[k], m.into_iter().collect()));
                    }
                }
                Value::Array(items) => {
                    let mut below: HashMap<usize, HashMap<u32, u64>> = HashMap::new();
                    for &(n, c) in &closure {
                        let node = &self.nodes[n as usize];
                        for &(k, m) in &node.at_index {
                            if k < items.len() {
                                add(below.entry(k).or_default(), m, c);
                                steps += 1;
                            }
                        }
                        for &m in &node.any_item {
                            for k in 0..items.len() {
                                add(below.entry(k).or_default(), m, c);
                            }
                            steps += items.len() as u64;
                        }
                    }
                    for (k, m) in below {
                        stack.push((&items[k], m.into_iter().collect()));
                    }
                }
                _ => {}
            }
            for &(n, c) in &closure {
                for &m in &self.nodes[n as usize].content {
                    total = total.saturating_add(c.saturating_mul(self.expansion[m as usize]));
                }
            }
            if exceeded(total, steps) {
                return Err(total.max(limit.saturating_add(1)));
            }
        }
        Ok(total)
    }
}

fn add(map: &mut HashMap<u32, u64>, n: u32, c: u64) {
    let e = map.entry(n).or_insert(0);
    *e = e.saturating_add(c);
}
