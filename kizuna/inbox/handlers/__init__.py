"""One module per activity type (or family): each handler takes the typed activity
(kizuna.activitypub.objects) and a Context; `registry` maps types to them."""
