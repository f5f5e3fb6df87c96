"""Azure-style generated job names: `sharp_river_7kq2x1` (adjective, noun, six base-36 characters)."""

from __future__ import annotations

import secrets
import string

ADJECTIVES = (
    "amber bold brave bright busy calm clever cool crisp dreamy eager fancy gentle gifted happy honest "
    "jolly keen kind lemon lively loyal lucid lunar mellow merry modest neat nice noble olive patient "
    "plucky polite proud quiet quick rapid sharp shiny silly sleepy smart sturdy sunny sweet swift "
    "tender tidy vivid warm witty zen"
).split()
NOUNS = (
    "apple basket beach berry bird boat brain bread cactus candle carrot cheetah cloud coconut comet "
    "cup dream eagle engine feather fig forest fox garden garlic grape hamster island jelly kettle kite "
    "lake leaf lemon lion mango melon moon mountain night ocean onion orange owl panda pear pepper "
    "pillow plum pumpkin rain river rocket rose sail seal snake spider spoon star stone sun tiger "
    "tomato tree turtle wave whale wolf yacht"
).split()
ALPHABET = string.ascii_lowercase + string.digits


def generate_job_name() -> str:
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{secrets.choice(ADJECTIVES)}_{secrets.choice(NOUNS)}_{suffix}"
