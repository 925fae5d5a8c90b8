//! Sessions whose page went away are ended after the grace period; open event streams keep them.

use crate::common;

use std::time::Duration;

use common::hub::{HubFixture, quick_options};
use keyhole_server::web::hub::HubOptions;
use keyhole_testbed::TestbedConfig;

#[tokio::test]
async fn abandoned_sessions_are_reaped_and_watched_ones_kept() {
    let options = HubOptions {
        idle_grace: Duration::from_millis(300),
        ..quick_options()
    };
    let fixture = HubFixture::with(TestbedConfig::demo(), options).await;
    let abandoned = fixture.connected(&["mcp"]).await;
    let watched = fixture.connected(&["mcp"]).await;
    let _stream = fixture.events(&watched).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(fixture.hub.reap_abandoned().await, 1);
    assert!(fixture.hub.get(&abandoned).is_none());
    assert!(fixture.hub.get(&watched).is_some());
}
