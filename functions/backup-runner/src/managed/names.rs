//! Google Cloud resource names as the managed exports accept them: checked before any
//! request or object key is built from them, so a hostile entry never reaches an API call.

/// Checks a project ID: `[a-z][a-z0-9-]{4,28}[a-z0-9]`, or a domain-scoped one
/// (`example.com:my-project`, the form older Google Workspace projects have).
pub fn check_project(project: &str) -> Result<(), String> {
    let id = match project.rsplit_once(':') {
        Some((domain, id)) => {
            check_domain(domain)?;
            id
        }
        None => project,
    };
    let bytes = id.as_bytes();
    let ok = (6..=30).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && is_lower_alnum(bytes[bytes.len() - 1])
        && bytes.iter().all(|&b| is_lower_alnum(b) || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "project {project:?} is not a project ID (6 to 30 lowercase letters, digits and \
             hyphens, starting with a letter, not ending with a hyphen)"
        ))
    }
}

/// Checks a Cloud SQL instance ID: `[a-z][a-z0-9-]*`, at most 98 characters (Cloud SQL's
/// limit for `project:instance` bounds it from above).
pub fn check_sql_instance(instance: &str) -> Result<(), String> {
    check_lower_name(instance, 98).map_err(|why| format!("instance {instance:?} {why}"))
}

/// Checks a Memorystore for Redis instance ID: `[a-z][a-z0-9-]{0,38}[a-z0-9]`.
pub fn check_redis_instance(instance: &str) -> Result<(), String> {
    let ends_well = instance.bytes().last().is_some_and(is_lower_alnum);
    check_lower_name(instance, 40)
        .and_then(|()| ends_well.then_some(()).ok_or("ends with a hyphen"))
        .map_err(|why| format!("instance {instance:?} {why}"))
}

/// Checks a location (region) such as `europe-west1`.
pub fn check_location(location: &str) -> Result<(), String> {
    check_lower_name(location, 63).map_err(|why| format!("location {location:?} {why}"))
}

/// `[a-z][a-z0-9-]*` of at most `max` characters; the reason when not.
fn check_lower_name(name: &str, max: usize) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > max {
        return Err("has the wrong length");
    }
    if !bytes[0].is_ascii_lowercase() {
        return Err("must start with a lowercase letter");
    }
    if !bytes.iter().all(|&b| is_lower_alnum(b) || b == b'-') {
        return Err("may hold only lowercase letters, digits and hyphens");
    }
    Ok(())
}

/// A domain name of a domain-scoped project: dot-separated labels of `[a-z0-9-]`.
fn check_domain(domain: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| is_lower_alnum(b) || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.contains('.') && domain.len() <= 253 && domain.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!(
            "{domain:?} is not a domain of a domain-scoped project"
        ))
    }
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}
