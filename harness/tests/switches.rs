//! The known-deviation registry and the model's behaviour switches match one to one: every
//! entry names the switch that encodes Linux's choice, and that switch lists the entry;
//! every deviation a switch lists has its entry. (A refinement switch, which narrows what
//! the RFC leaves open, lists none.)

use std::collections::BTreeMap;

use tcpcheck::explore::deviations::DEVIATIONS;
use tcpcheck_model::profile::behaviour::SWITCHES;

#[test]
fn registry_entries_and_switches_match_one_to_one() {
    let fields: BTreeMap<&str, &[&str]> =
        SWITCHES.iter().map(|s| (s.field, s.deviations)).collect();
    assert_eq!(fields.len(), SWITCHES.len(), "a switch is listed twice");
    let mut problems = Vec::new();
    for d in DEVIATIONS {
        match fields.get(d.switch) {
            None => problems.push(format!("{}: no switch named {:?}", d.name, d.switch)),
            Some(devs) if !devs.contains(&d.name) => problems.push(format!(
                "{}: switch {:?} does not list it",
                d.name, d.switch
            )),
            Some(_) => {}
        }
    }
    for s in SWITCHES {
        for name in s.deviations {
            match DEVIATIONS.iter().filter(|d| d.name == *name).count() {
                1 => {
                    let d = DEVIATIONS
                        .iter()
                        .find(|d| d.name == *name)
                        .expect("counted");
                    if d.switch != s.field {
                        problems.push(format!(
                            "{name}: listed by {:?}, names {:?}",
                            s.field, d.switch
                        ));
                    }
                }
                n => problems.push(format!(
                    "{name} (switch {:?}): {n} registry entries",
                    s.field
                )),
            }
        }
    }
    let listed: usize = SWITCHES.iter().map(|s| s.deviations.len()).sum();
    if listed != DEVIATIONS.len() {
        problems.push(format!(
            "{listed} deviations listed by switches, {} in the registry",
            DEVIATIONS.len()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_rfc_profile_takes_no_deviation_and_linux_takes_every_one() {
    use tcpcheck_model::profile::Profile;
    // Each deviation switch differs between the two profiles (a switch Linux leaves at the
    // RFC's value would encode nothing).
    let rfc = format!("{:?}", Profile::rfc9293().behaviour);
    let linux = format!("{:?}", Profile::linux_defaults().behaviour);
    let values = |debug: &str| -> BTreeMap<String, String> {
        debug
            .trim_start_matches("Behaviour { ")
            .trim_end_matches(" }")
            .split(", ")
            .filter_map(|kv| kv.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let (rfc, linux) = (values(&rfc), values(&linux));
    for s in SWITCHES.iter().filter(|s| !s.deviations.is_empty()) {
        if s.field == "tail_loss_probe" {
            assert!(
                !Profile::rfc9293().tail_loss_probe && Profile::linux_defaults().tail_loss_probe
            );
            continue;
        }
        assert_ne!(rfc.get(s.field), None, "{} is not a field", s.field);
        assert_ne!(rfc.get(s.field), linux.get(s.field), "{}", s.field);
    }
}
