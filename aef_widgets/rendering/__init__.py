"""From arrays to map layers: colours, legends, PNG overlays in Web Mercator. No widgets, no analysis."""
