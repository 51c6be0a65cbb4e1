"""Moles on the dermapred 0.0.3 sample photo (1528x1360 forearm, Apache-2.0).

Found with a simple dark-blob detection (L channel of CIE Lab, 25 px Gaussian background
minus pixel > 18, 5x5 opening, connected components of >= 80 px, then visual inspection to
drop hairs and a scratch) and given a ~10 px margin.  Each mole is segmented on a 400 px
crop around it (``crop`` in photo pixels, x0, y0, x1, y1), with ``box`` in crop pixels;
``box_photo`` is the same box in photo pixels.
"""

MOLES = [
    # largest, darkest mole, centre of the photo (blob 595,668 42x51)
    {"name": "A", "crop": (416, 493, 816, 893), "box": (169, 165, 231, 236), "box_photo": (585, 658, 647, 729)},
    # fainter mole above it (blob 617,354 26x33)
    {"name": "B", "crop": (430, 170, 830, 570), "box": (179, 176, 221, 225), "box_photo": (609, 346, 651, 395)},
    # light-brown mole near the top-left corner under hair (blob 103,200 20x18)
    {"name": "C", "crop": (0, 9, 400, 409), "box": (88, 176, 138, 224), "box_photo": (88, 185, 138, 233)},
]
