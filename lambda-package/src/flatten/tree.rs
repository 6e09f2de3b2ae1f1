//! The flattened image as an in-memory tree of metadata. Nothing here touches the disk: file
//! contents live in the spool and nodes only point at them.
//!
//! Invariant: every node sits under a chain of real directories (never under a symlink), so a
//! node's path in the tree is canonical. Entry paths that go through a symlink are resolved
//! inside the tree first (clamped at the root, like the kernel does inside a container).

use std::collections::{BTreeMap, VecDeque};

/// Most symlinks followed while resolving one path (Linux's own limit is 40).
pub(crate) const MAX_SYMLINK_HOPS: u32 = 40;

/// Where a regular file's bytes are in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Content {
    pub(crate) offset: u64,
    pub(crate) len: u64,
    /// Any execute bit was set (the zip mode is then 0755, else 0644).
    pub(crate) executable: bool,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Dir(BTreeMap<String, Node>),
    File(Content),
    /// The link target: raw while layers are applied, rewritten by [`Tree::rewrite_symlinks`].
    Symlink(String),
}

#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// The layer that last created or touched this node (whiteouts spare the current layer's).
    pub(crate) layer: u32,
}

impl Node {
    pub(crate) fn dir(layer: u32) -> Node {
        Node {
            kind: Kind::Dir(BTreeMap::new()),
            layer,
        }
    }

    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    /// Number of nodes in this subtree, itself included.
    pub(crate) fn count(&self) -> u64 {
        match &self.kind {
            Kind::Dir(children) => 1 + children.values().map(Node::count).sum::<u64>(),
            _ => 1,
        }
    }
}

/// Why a path could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResolveError {
    /// More than [`MAX_SYMLINK_HOPS`] links, or a target that keeps growing.
    Loop,
}

pub(crate) struct Tree {
    pub(crate) root: Node,
}

/// Split a link target into components: `.` and empty ones dropped, `..` kept.
pub(crate) fn target_components(target: &str) -> impl Iterator<Item = &str> {
    target.split('/').filter(|c| !c.is_empty() && *c != ".")
}

impl Tree {
    pub(crate) fn new() -> Tree {
        Tree { root: Node::dir(0) }
    }

    /// The node at a canonical path, without following symlinks.
    pub(crate) fn get(&self, path: &[String]) -> Option<&Node> {
        let mut node = &self.root;
        for c in path {
            match &node.kind {
                Kind::Dir(children) => node = children.get(c)?,
                _ => return None,
            }
        }
        Some(node)
    }

    /// The node at a canonical path, mutably, without following symlinks.
    pub(crate) fn get_mut(&mut self, path: &[String]) -> Option<&mut Node> {
        let mut node = &mut self.root;
        for c in path {
            match &mut node.kind {
                Kind::Dir(children) => node = children.get_mut(c)?,
                _ => return None,
            }
        }
        Some(node)
    }

    /// Resolve `components` (which may hold `..`) starting at the canonical directory `base`,
    /// following symlinks inside the tree. `..` at the root stays at the root; an absolute link
    /// target restarts at the root. Components below a missing one are kept lexically. The
    /// last component is followed only when `follow_last`. The result is canonical: none of
    /// its components but (when `!follow_last`) the last is a symlink.
    pub(crate) fn resolve<'a>(
        &self,
        base: &[String],
        components: impl IntoIterator<Item = &'a str>,
        follow_last: bool,
    ) -> Result<Vec<String>, ResolveError> {
        let mut stack: Vec<String> = base.to_vec();
        let mut pending: VecDeque<String> = components.into_iter().map(str::to_string).collect();
        let mut hops = 0;
        while let Some(c) = pending.pop_front() {
            if c == ".." {
                stack.pop();
                continue;
            }
            stack.push(c);
            if pending.is_empty() && !follow_last {
                break;
            }
            if let Some(Node {
                kind: Kind::Symlink(target),
                ..
            }) = self.get(&stack)
            {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS || pending.len() > 64 * 1024 {
                    return Err(ResolveError::Loop);
                }
                stack.pop();
                if target.starts_with('/') {
                    stack.clear();
                }
                for part in target_components(target)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                {
                    pending.push_front(part.to_string());
                }
            }
        }
        Ok(stack)
    }

    /// Rewrite every symlink's target into a relative path that stays inside the tree: the
    /// target is resolved in the tree (absolute targets from the root, `..` clamped at the
    /// root, intermediate links followed, the last component not followed) and written as
    /// `../`s up to the common ancestor then plain names down. Links whose resolution loops
    /// are removed. Returns how many were removed.
    pub(crate) fn rewrite_symlinks(&mut self) -> u64 {
        let mut links: Vec<(Vec<String>, String)> = Vec::new();
        collect_symlinks(&self.root, &mut Vec::new(), &mut links);
        let mut rewrites: Vec<(Vec<String>, Option<String>)> = Vec::with_capacity(links.len());
        for (path, target) in links {
            let parent = &path[..path.len() - 1];
            let base = if target.starts_with('/') {
                &[][..]
            } else {
                parent
            };
            let resolved = self.resolve(base, target_components(&target), false);
            let new_target = resolved.ok().map(|r| relative(parent, &r));
            rewrites.push((path, new_target));
        }
        let mut removed = 0;
        for (path, new_target) in rewrites {
            match new_target {
                Some(t) => {
                    if let Some(node) = self.get_mut(&path) {
                        node.kind = Kind::Symlink(t);
                    }
                }
                None => {
                    let (name, parent) = path.split_last().expect("a link is never the root");
                    if let Some(Node {
                        kind: Kind::Dir(children),
                        ..
                    }) = self.get_mut(parent)
                    {
                        children.remove(name);
                        removed += 1;
                    }
                }
            }
        }
        removed
    }
}

fn collect_symlinks(node: &Node, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    if let Kind::Dir(children) = &node.kind {
        for (name, child) in children {
            path.push(name.clone());
            match &child.kind {
                Kind::Symlink(target) => out.push((path.clone(), target.clone())),
                Kind::Dir(_) => collect_symlinks(child, path, out),
                Kind::File(_) => {}
            }
            path.pop();
        }
    }
}

/// The relative path from directory `from` to `to` (both canonical).
pub(crate) fn relative(from: &[String], to: &[String]) -> String {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(std::iter::repeat_n("..", from.len() - common));
    parts.extend(to[common..].iter().map(String::as_str));
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Remove every child of `node` (recursively) that the current `layer` did not create or touch:
/// what a whiteout of a current-layer directory, or an opaque marker, hides. Returns the number
/// of nodes removed.
pub(crate) fn prune_lower(node: &mut Node, layer: u32) -> u64 {
    let mut removed = 0;
    if let Kind::Dir(children) = &mut node.kind {
        children.retain(|_, child| {
            if child.layer == layer {
                true
            } else {
                removed += child.count();
                false
            }
        });
        for child in children.values_mut() {
            removed += prune_lower(child, layer);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        target_components(s).map(str::to_string).collect()
    }

    fn tree() -> Tree {
        // /a/b (dir), /a/l -> /a/b, /up -> ../../.., /loop1 -> loop2, /loop2 -> loop1
        let mut t = Tree::new();
        let Kind::Dir(root) = &mut t.root.kind else {
            unreachable!()
        };
        let mut a = Node::dir(1);
        let Kind::Dir(ac) = &mut a.kind else {
            unreachable!()
        };
        ac.insert("b".into(), Node::dir(1));
        ac.insert(
            "l".into(),
            Node {
                kind: Kind::Symlink("/a/b".into()),
                layer: 1,
            },
        );
        root.insert("a".into(), a);
        for (name, target) in [("up", "../../.."), ("loop1", "loop2"), ("loop2", "loop1")] {
            root.insert(
                name.into(),
                Node {
                    kind: Kind::Symlink(target.into()),
                    layer: 1,
                },
            );
        }
        t
    }

    #[test]
    fn resolution_follows_links_inside_and_clamps_at_root() {
        let t = tree();
        assert_eq!(t.resolve(&[], ["a", "l", "x"], true).unwrap(), p("a/b/x"));
        assert_eq!(t.resolve(&[], ["up", "etc"], true).unwrap(), p("etc"));
        assert_eq!(t.resolve(&p("a"), ["..", "..", ".."], true).unwrap(), p(""));
        assert_eq!(t.resolve(&[], ["a", "l"], false).unwrap(), p("a/l"));
        assert_eq!(
            t.resolve(&[], ["loop1", "x"], true),
            Err(ResolveError::Loop)
        );
        assert_eq!(t.resolve(&[], ["loop1"], false).unwrap(), p("loop1"));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative(&p("a/b"), &p("a/c/d")), "../c/d");
        assert_eq!(relative(&p(""), &p("etc")), "etc");
        assert_eq!(relative(&p("x/y"), &p("")), "../..");
        assert_eq!(relative(&p("x"), &p("x")), ".");
    }

    #[test]
    fn symlinks_are_rewritten_inside_and_loops_kept_only_when_harmless() {
        let mut t = tree();
        assert_eq!(t.rewrite_symlinks(), 0);
        let target = |t: &Tree, path: &str| match &t.get(&p(path)).unwrap().kind {
            Kind::Symlink(s) => s.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(target(&t, "a/l"), "b");
        assert_eq!(target(&t, "up"), ".");
        assert_eq!(target(&t, "loop1"), "loop2");
    }
}
